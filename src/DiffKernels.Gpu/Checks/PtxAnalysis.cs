using System.Text.RegularExpressions;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// What the PTX of one kernel says about its main loop: the loop (a backward branch and its target)
/// whose own body (without the loops nested in it) holds the most FMAs, innermost on ties. Counts are of static instructions, so an unrolled loop
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
public sealed record PtxLoopReport(string Kernel, int MainLoopFmas, int MainLoopSharedLoads,
    IReadOnlyDictionary<string, int> MainLoopLoads, int MainLoopDivRem, int LoopDivRem, int VirtualRegisters)
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

    /// <summary>Analyses the PTX of one kernel (a single .entry and the functions it calls, inlined or not).</summary>
    public static PtxLoopReport Analyze(string kernel, string ptx)
    {
        var lines = ptx.Split('\n');
        var labels = new Dictionary<string, int>();
        for (int i = 0; i < lines.Length; i++)
        {
            var m = Label().Match(lines[i]);
            if (m.Success) labels[m.Groups[1].Value] = i;
        }
        var loops = new List<(int Begin, int End)>();
        for (int i = 0; i < lines.Length; i++)
        {
            var m = Branch().Match(lines[i]);
            if (m.Success && labels.TryGetValue(m.Groups[3].Value, out int target) && target <= i) loops.Add((target, i));
        }
        // A loop's own lines exclude the loops nested in it, so the main loop is the one whose single
        // iteration does the most arithmetic, not an outer loop that merely contains it.
        bool[] Own((int Begin, int End) l)
        {
            var own = new bool[lines.Length];
            for (int i = l.Begin; i <= l.End; i++) own[i] = true;
            foreach (var inner in loops)
                if (inner != l && inner.Begin >= l.Begin && inner.End <= l.End)
                    for (int i = inner.Begin; i <= inner.End; i++) own[i] = false;
            return own;
        }
        var main = loops
            .Select(l => (Own: Own(l), Span: l.End - l.Begin))
            .Select(x => (x.Own, x.Span, Fmas: CountFmas(lines, x.Own)))
            .OrderByDescending(x => x.Fmas).ThenBy(x => x.Span)
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
        var inLoop = new bool[lines.Length];
        foreach (var (b, e) in loops) for (int i = b; i <= e; i++) inLoop[i] = true;
        int loopDiv = 0;
        for (int i = 0; i < lines.Length; i++) if (inLoop[i] && IntDivRem().IsMatch(lines[i])) loopDiv++;
        int regs = lines.Select(l => RegDecl().Match(l)).Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value));
        return new PtxLoopReport(kernel, main.Fmas, shared, loads, mainDiv, loopDiv, regs);
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
