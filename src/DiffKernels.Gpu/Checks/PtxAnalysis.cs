using System.Text.RegularExpressions;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// What the PTX of one kernel says about its main loop: the natural loop of its control-flow graph
/// whose own body (without the loops nested in it) holds the most mma.sync, then the most FMAs, smallest on ties. Counts are of static instructions, so an unrolled loop
/// body counts each copy; register counts are PTX virtual registers (ptxas, which needs a driver,
/// allocates the physical ones).
/// </summary>
/// <param name="Kernel">Kernel name, Class.Method.</param>
/// <param name="MainLoopFmas">FMAs in the main loop: fma instructions and the mul.f32 → add.f32 pairs ptxas contracts.</param>
/// <param name="MainLoopSharedLoads">ld.shared instructions in the main loop, any width.</param>
/// <param name="MainLoopLoads">Load instructions of the main loop by space and width (for example "ld.global.v4.f32" → 2).</param>
/// <param name="MainLoopDivRem">Integer div/rem instructions in the main loop.</param>
/// <param name="LoopDivRem">Integer div/rem instructions inside any loop.</param>
/// <param name="VirtualRegisters">.reg declarations, summed over the register kinds.</param>
/// <param name="MainLoopMmas">Warp-level mma.sync instructions in the main loop (tensor cores).</param>
/// <param name="MainLoopTf32Cvts">cvt.rna.tf32.f32 instructions in the main loop (operands rounded to TF32).</param>
/// <param name="MainLoopLocal">ld.local and st.local instructions in the main loop.</param>
public sealed record PtxLoopReport(string Kernel, int MainLoopFmas, int MainLoopSharedLoads,
    IReadOnlyDictionary<string, int> MainLoopLoads, int MainLoopDivRem, int LoopDivRem, int VirtualRegisters,
    int MainLoopMmas = 0, int MainLoopTf32Cvts = 0, int MainLoopLocal = 0)
{
    /// <summary>FMAs per shared-memory load instruction in the main loop (∞ when it loads nothing from shared memory).</summary>
    public double FmasPerSharedLoad => MainLoopSharedLoads == 0 ? double.PositiveInfinity : (double)MainLoopFmas / MainLoopSharedLoads;

    /// <summary>True when the main loop issues a 128-bit load from global memory.</summary>
    public bool VectorGlobalLoads => MainLoopLoads.Keys.Any(k => k.StartsWith("ld.global.v4", StringComparison.Ordinal));

    /// <summary>True when the main loop issues a 128-bit load from shared memory.</summary>
    public bool VectorSharedLoads => MainLoopLoads.Keys.Any(k => k.StartsWith("ld.shared.v4", StringComparison.Ordinal));
}

/// <summary>Reads loops and instruction mixes out of PTX text (as ILGPU's PTX backend writes it).</summary>
public static partial class PtxAnalysis
{
    [GeneratedRegex(@"^\s*(\$?[A-Za-z_][\w$]*):\s*$")]
    private static partial Regex Label();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?bra(\.uni)?\s+(\$?[A-Za-z_][\w$]*)\s*;")]
    private static partial Regex Branch();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?fma\.")]
    private static partial Regex Fma();

    [GeneratedRegex(@"^\s*mul(\.ftz)?\.f32\s+(%f\d+),")]
    private static partial Regex Mul();

    [GeneratedRegex(@"^\s*(add|sub)(\.ftz)?\.f32\s+%f\d+,\s*(%f\d+),\s*(%f\d+)\s*;")]
    private static partial Regex AddSub();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?(ld\.(global|shared|local|param|const)(\.[a-z0-9]+)*)\s")]
    private static partial Regex Load();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?(div|rem)\.[su](16|32|64)\s")]
    private static partial Regex IntDivRem();

    [GeneratedRegex(@"^\s*\.reg\s+\.\w+\s+%\w+<(\d+)>\s*;")]
    private static partial Regex RegDecl();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?(ret|exit)\s*;")]
    private static partial Regex Return();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?mma\.sync\.")]
    private static partial Regex Mma();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?cvt\.rna\.tf32\.f32\s")]
    private static partial Regex Tf32Cvt();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?(ld|st)\.local\.")]
    private static partial Regex Local();

    /// <summary>Analyses the PTX of one kernel (a single .entry, everything inlined as ILGPU emits it).</summary>
    public static PtxLoopReport Analyze(string kernel, string ptx)
    {
        var lines = ptx.Split('\n');
        var loops = NaturalLoops(lines);
        // A loop's own lines exclude the loops nested in it, so the main loop is the one whose single
        // iteration does the most arithmetic, not an outer loop that merely contains it.
        bool[] Own(bool[] body)
        {
            var own = (bool[])body.Clone();
            foreach (var inner in loops)
                if (inner != body && Enumerable.Range(0, lines.Length).All(i => !inner[i] || body[i]))
                    for (int i = 0; i < lines.Length; i++) if (inner[i]) own[i] = false;
            return own;
        }
        var main = loops
            .Select(body => (Own: Own(body), Size: body.Count(x => x)))
            .Select(x => (x.Own, x.Size, Fmas: CountFmas(lines, x.Own), Mmas: Count(lines, x.Own, Mma())))
            .OrderByDescending(x => x.Mmas).ThenByDescending(x => x.Fmas).ThenBy(x => x.Size)
            .FirstOrDefault();
        var loads = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int shared = 0, mainDiv = 0;
        for (int i = 0; main.Own != null && i < lines.Length; i++)
        {
            if (!main.Own[i]) continue;
            var m = Load().Match(lines[i]);
            if (m.Success)
            {
                string op = m.Groups[2].Value;
                loads[op] = loads.GetValueOrDefault(op) + 1;
                if (m.Groups[3].Value == "shared") shared++;
            }
            if (IntDivRem().IsMatch(lines[i])) mainDiv++;
        }
        int loopDiv = 0;
        for (int i = 0; i < lines.Length; i++) if (loops.Any(l => l[i]) && IntDivRem().IsMatch(lines[i])) loopDiv++;
        int regs = lines.Select(l => RegDecl().Match(l)).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value));
        return main.Own == null
            ? new PtxLoopReport(kernel, 0, 0, loads, 0, loopDiv, regs)
            : new PtxLoopReport(kernel, main.Fmas, shared, loads, mainDiv, loopDiv, regs,
                main.Mmas, Count(lines, main.Own, Tf32Cvt()), Count(lines, main.Own, Local()));
    }

    private static int Count(string[] lines, bool[] own, Regex op)
    {
        int n = 0;
        for (int i = 0; i < lines.Length; i++) if (own[i] && op.IsMatch(lines[i])) n++;
        return n;
    }

    /// <summary>
    /// The natural loops of the control-flow graph, each as a line mask: basic blocks start at labels
    /// and after branches; a back edge is a branch to a block that dominates its source. (ILGPU lays
    /// blocks out in no loop order, so a backward jump in the text is not a loop by itself.)
    /// </summary>
    private static List<bool[]> NaturalLoops(string[] lines)
    {
        var starts = new List<int>();
        var labelBlock = new Dictionary<string, int>();
        bool startNext = true;
        for (int i = 0; i < lines.Length; i++)
        {
            var label = Label().Match(lines[i]);
            if (label.Success || startNext)
            {
                if (starts.Count == 0 || starts[^1] != i) starts.Add(i);
                startNext = false;
            }
            if (label.Success) labelBlock[label.Groups[1].Value] = starts.Count - 1;
            if (Branch().IsMatch(lines[i]) || Return().IsMatch(lines[i])) startNext = true;
        }
        int count = starts.Count;
        int End(int b) => b + 1 < count ? starts[b + 1] : lines.Length;
        var succ = new List<int>[count];
        for (int b = 0; b < count; b++)
        {
            succ[b] = [];
            int last = End(b) - 1;
            while (last > starts[b] && string.IsNullOrWhiteSpace(lines[last])) last--;
            var br = Branch().Match(lines[last]);
            bool conditional = br.Success && br.Groups[1].Success;
            if (br.Success && labelBlock.TryGetValue(br.Groups[3].Value, out int target)) succ[b].Add(target);
            if ((!br.Success || conditional) && !Return().IsMatch(lines[last]) && b + 1 < count) succ[b].Add(b + 1);
        }
        // Blocks the entry cannot reach (the blank line after an unconditional branch, say) would
        // spoil the dominator sets of their successors: leave them out of the graph.
        var reached = new bool[count];
        var pending = new Stack<int>([0]);
        reached[0] = true;
        while (pending.Count > 0)
            foreach (int t in succ[pending.Pop()])
                if (!reached[t]) { reached[t] = true; pending.Push(t); }
        var pred = Enumerable.Range(0, count).Select(_ => new List<int>()).ToArray();
        for (int b = 0; b < count; b++) if (reached[b]) foreach (int t in succ[b]) pred[t].Add(b);

        // Iterative dominator sets (kernels have at most a few hundred blocks).
        var dom = new HashSet<int>[count];
        for (int b = 0; b < count; b++) dom[b] = b == 0 ? [0] : [.. Enumerable.Range(0, count)];
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int b = 1; b < count; b++)
            {
                HashSet<int>? meet = null;
                foreach (int p in pred[b])
                {
                    if (meet == null) meet = [.. dom[p]];
                    else meet.IntersectWith(dom[p]);
                }
                meet ??= [];
                meet.Add(b);
                if (!meet.SetEquals(dom[b])) { dom[b] = meet; changed = true; }
            }
        }

        var bodies = new Dictionary<int, HashSet<int>>();
        for (int b = 0; b < count; b++)
            foreach (int h in succ[b].Where(h => reached[b] && dom[b].Contains(h)))
            {
                var body = bodies.TryGetValue(h, out var existing) ? existing : bodies[h] = [h];
                var work = new Stack<int>();
                if (body.Add(b)) work.Push(b);
                while (work.Count > 0)
                    foreach (int p in pred[work.Pop()])
                        if (body.Add(p)) work.Push(p);
            }
        return bodies.Values.Select(body =>
        {
            var mask = new bool[lines.Length];
            foreach (int b in body) for (int i = starts[b]; i < End(b); i++) mask[i] = true;
            return mask;
        }).ToList();
    }

    // ILGPU writes a*b + c as mul.f32 then add.f32 (no rounding modifier), which ptxas contracts into
    // one fma under its default --fmad=true; both spellings count as one FMA.
    private static int CountFmas(string[] lines, bool[] own)
    {
        var products = new HashSet<string>(StringComparer.Ordinal);
        int n = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!own[i]) continue;
            if (Fma().IsMatch(lines[i])) { n++; continue; }
            var mul = Mul().Match(lines[i]);
            if (mul.Success) { products.Add(mul.Groups[2].Value); continue; }
            var add = AddSub().Match(lines[i]);
            if (add.Success && (products.Remove(add.Groups[3].Value) || products.Remove(add.Groups[4].Value))) n++;
        }
        return n;
    }
}
