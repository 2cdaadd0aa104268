using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Backends.PTX;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Gpu.Checks;

/// <summary>The math instruction mix of one kernel's PTX.</summary>
/// <param name="Kernel">Kernel name, Class.Method (with the tile shape of a generic kernel).</param>
/// <param name="Approximate">Approximate instructions by opcode (for example "ex2.approx.f32" → 2); empty when there are none.</param>
/// <param name="F64">Instructions with a .f64 operand type (arithmetic, comparisons, conversions to or from double).</param>
/// <param name="IntDivRem">Integer div/rem instructions anywhere in the kernel (index arithmetic, mostly).</param>
public sealed record PtxMathReport(string Kernel, IReadOnlyDictionary<string, int> Approximate, int F64, int IntDivRem)
{
    /// <summary>Approximate instructions of all kinds.</summary>
    public int ApproximateCount => Approximate.Values.Sum();
}

/// <summary>
/// The precise-math half of `dk ptx-report`: compiles every kernel entry point to PTX as the real
/// backend does (no libdevice) and counts the approximate special-function instructions, which must
/// be none (the kernels take exp, log, tanh, pow, sin and cos from <see cref="DeviceMath"/>), and the
/// double-precision instructions, allowed only in the kernels listed with their reason.
/// </summary>
public static partial class PtxMath
{
    /// <summary>Kernels that keep double precision on purpose, and why.</summary>
    public static IReadOnlyDictionary<string, string> DoubleAllowed { get; } = new Dictionary<string, string>
    {
        ["ElementwiseKernels.Binary"] = "pow: log x and y·log x in double",
        ["ElementwiseKernels.BinaryFlat"] = "pow: log x and y·log x in double",
        ["ElementwiseKernels.Unary"] = "pow: log x and y·log x in double",
        ["ElementwiseKernels.UnaryBackward"] = "pow: log x and y·log x in double",
        ["EmbeddingKernels.Forward"] = "phases reach 10³ rad: frequency and phase in double",
        ["EmbeddingKernels.Backward"] = "frequencies in double, sum in double as on the CPU",
        ["ScheduleKernels.ThresholdX0"] = "quantile position in double, as the CPU picks its order statistics",
    };

    // Approximate forms: ex2/lg2/sin/cos/tanh/rsqrt/sqrt/rcp/div .approx, and div.full (2 ulp).
    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?((ex2|lg2|sin|cos|tanh|rsqrt|sqrt|rcp|div)\.approx(\.[a-z0-9]+)*|div\.full(\.[a-z0-9]+)*)\s")]
    private static partial Regex ApproximateOp();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?[a-z][a-z0-9]*(\.[a-z0-9]+)*\.f64(\.[a-z0-9]+)*\s")]
    private static partial Regex F64Op();

    [GeneratedRegex(@"^\s*(@!?%p\d+\s+)?(div|rem)\.[su](16|32|64)\s")]
    private static partial Regex IntDivRem();

    /// <summary>Counts the approximate and f64 instructions of one kernel's PTX.</summary>
    public static PtxMathReport Analyze(string kernel, string ptx)
    {
        var approximate = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int f64 = 0, divRem = 0;
        foreach (string line in ptx.Split('\n'))
        {
            var m = ApproximateOp().Match(line);
            if (m.Success) approximate[m.Groups[2].Value] = approximate.GetValueOrDefault(m.Groups[2].Value) + 1;
            if (F64Op().IsMatch(line)) f64++;
            if (IntDivRem().IsMatch(line)) divRem++;
        }
        return new PtxMathReport(kernel, approximate, f64, divRem);
    }

    /// <summary>
    /// Every kernel entry point, generic GEMM tile cores at both square shapes, attention at both head widths, the
    /// tensor-core GEMM as CUDA runs it (inline PTX; its C# twin runs on the emulator only).
    /// </summary>
    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(KernelAttribute).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<KernelAttribute>() != null)
            .SelectMany(m => PtxReport.Instantiate(m, [typeof(GemmLarge), typeof(GemmSmall), typeof(AttentionD32), typeof(AttentionD64), typeof(Mma)]))
            .OrderBy(PtxReport.Name, StringComparer.Ordinal);

    /// <summary>Compiles and counts every kernel.</summary>
    public static IReadOnlyList<PtxMathReport> Run()
    {
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(PtxReport.Architecture), PtxReport.Architecture, CudaInstructionSet.ISA_70, null);
        return Kernels().Select(k => Analyze(PtxReport.Name(k), PtxReport.Compile(backend, k))).ToList();
    }

    /// <summary>Approximate instructions anywhere, and f64 instructions outside <see cref="DoubleAllowed"/> (empty when clean).</summary>
    public static IReadOnlyList<string> Violations(IReadOnlyList<PtxMathReport> reports)
    {
        var problems = new List<string>();
        foreach (var r in reports)
        {
            if (r.ApproximateCount > 0)
                problems.Add($"{r.Kernel}: approximate instructions {string.Join(", ", r.Approximate.Select(kv => $"{kv.Key} ×{kv.Value}"))}");
            if (r.F64 > 0 && !DoubleAllowed.ContainsKey(r.Kernel))
                problems.Add($"{r.Kernel}: {r.F64} f64 instructions in a kernel not allowed double precision");
        }
        return problems;
    }

    /// <summary>The section of bench/results/ptx-report.txt: one line per kernel, then the verdict.</summary>
    public static string Format(IReadOnlyList<PtxMathReport> reports)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine("Precise math: approximate and double-precision instructions in the PTX of every kernel (same compilation, no libdevice)");
        s.AppendLine("approx = ex2/lg2/sin/cos/tanh/rsqrt/sqrt/rcp/div .approx and div.full; f64 = instructions on .f64 operands; div/rem = integer div/rem, whole kernel");
        int width = reports.Max(r => r.Kernel.Length);
        foreach (var r in reports)
        {
            string why = r.F64 > 0 && DoubleAllowed.TryGetValue(r.Kernel, out var reason) ? $"  ({reason})" : "";
            s.AppendLine(c, $"  {r.Kernel.PadRight(width)}  approx {r.ApproximateCount,3}  f64 {r.F64,4}  div/rem {r.IntDivRem,3}{why}");
        }
        var problems = Violations(reports);
        s.AppendLine(problems.Count == 0
            ? "Precise math met: no approximate instructions in any kernel; f64 only where a reason is given"
            : "Precise math NOT met:\n  " + string.Join("\n  ", problems));
        return s.ToString();
    }
}
