using System.Globalization;
using System.Reflection;
using System.Text;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// The static proof behind `dk ptx-report`: compiles the hot kernels to PTX with the optimisation
/// flags of the real backend (no GPU needed) and reports each one's main loop (<see cref="PtxAnalysis"/>).
/// The GEMM, the convolutions on its core, the tiled attention kernels and the tensor-core GEMM carry thresholds that a regression in their structure would break.
/// </summary>
public static class PtxReport
{
    /// <summary>Architecture the report compiles for: the oldest the tensor-core plans target.</summary>
    public static readonly CudaArchitecture Architecture = CudaArchitecture.SM_80;

    /// <summary>The GEMM main loop must issue at least this many FMAs per shared-memory load instruction.</summary>
    public const double GemmMinFmasPerSharedLoad = 8;

    /// <summary>The tiled attention kernels' main loops must issue at least this many FMAs per shared-memory load instruction.</summary>
    public const double AttentionMinFmasPerSharedLoad = 4;

    private static IEnumerable<MethodInfo> Hot()
    {
        foreach (var shape in new[] { typeof(GemmLarge), typeof(GemmSmall) })
            yield return typeof(GemmKernels).GetMethod(nameof(GemmKernels.Gemm))!.MakeGenericMethod(shape);
        foreach (string name in new[] { nameof(ConvKernels.Forward), nameof(ConvKernels.BackwardData), nameof(ConvKernels.BackwardWeight) })
            foreach (var shape in new[] { typeof(GemmLarge), typeof(GemmNarrow) })
                yield return typeof(ConvKernels).GetMethod(name)!.MakeGenericMethod(shape);
        foreach (string name in new[] { nameof(AttentionKernels.Forward), nameof(AttentionKernels.Backward) })
            foreach (var shape in new[] { typeof(AttentionD32), typeof(AttentionD64) })
                yield return typeof(AttentionKernels).GetMethod(name)!.MakeGenericMethod(shape);
    }

    /// <summary>The tensor-core GEMM kernels the CUDA backend launches (inline PTX), at both square tile shapes.</summary>
    private static IEnumerable<MethodInfo> Tensor()
    {
        foreach (string name in new[] { nameof(GemmKernels.GemmTf32), nameof(GemmKernels.Gemm3xTf32) })
            foreach (var shape in new[] { typeof(GemmLarge), typeof(GemmSmall) })
                yield return typeof(GemmKernels).GetMethod(name)!.MakeGenericMethod(shape, typeof(Mma));
    }

    /// <summary>
    /// A kernel entry point closed over every combination of <paramref name="shapes"/> that its type parameters'
    /// constraints admit (GEMM tiles, attention head widths, mma units); a non-generic kernel is returned as it is.
    /// </summary>
    public static IEnumerable<MethodInfo> Instantiate(MethodInfo kernel, IEnumerable<Type> shapes)
    {
        if (!kernel.IsGenericMethodDefinition) return [kernel];
        var choices = kernel.GetGenericArguments()
            .Select(p => p.GetGenericParameterConstraints().Where(c => c.IsInterface).ToArray())
            .Select(constraints => shapes.Where(s => constraints.All(c => c.IsAssignableFrom(s))).ToArray());
        IEnumerable<Type[]> combinations = [[]];
        foreach (var options in choices)
            combinations = combinations.SelectMany(prefix => options.Select(o => (Type[])[.. prefix, o]));
        return combinations.Select(kernel.MakeGenericMethod);
    }

    /// <summary>Kernel name as the report prints it: Class.Method, with the tile shape of a generic kernel.</summary>
    public static string Name(MethodInfo kernel) =>
        $"{kernel.DeclaringType!.Name}.{kernel.Name}" + (kernel.IsGenericMethod ? $"<{string.Join(", ", kernel.GetGenericArguments().Select(t => t.Name))}>" : "");

    /// <summary>Compiles and analyses every hot kernel (the GEMM at both tile shapes), then the tensor-core GEMM kernels.</summary>
    public static IReadOnlyList<PtxLoopReport> Run()
    {
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(Architecture), Architecture, CudaInstructionSet.ISA_70, null);
        return Hot().Concat(Tensor()).Select(k => PtxAnalysis.Analyze(Name(k), Compile(backend, k))).ToList();
    }

    /// <summary>The PTX of one kernel entry point.</summary>
    internal static string Compile(PTXBackend backend, MethodInfo kernel)
    {
        bool grouped = kernel.GetCustomAttribute<KernelAttribute>()?.Grouped ?? false;
        var entry = grouped ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel) : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        return ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
    }

    /// <summary>Threshold violations of the GEMM at every shape (empty when it meets them all).</summary>
    public static IReadOnlyList<string> GemmViolations(IReadOnlyList<PtxLoopReport> reports)
    {
        var problems = new List<string>();
        foreach (var gemm in reports.Where(r => r.Kernel.StartsWith("GemmKernels.Gemm<", StringComparison.Ordinal)))
            Check(gemm, problems);
        return problems;
    }

    /// <summary>The tensor-core kernels' reports.</summary>
    private static IEnumerable<PtxLoopReport> TensorReports(IReadOnlyList<PtxLoopReport> reports) => reports.Where(r => r.Kernel.EndsWith(", Mma>", StringComparison.Ordinal));

    /// <summary>mma.sync per slab of the 16 blocks of 16 × 8 that a warp's 64 × 32 block holds, for one pass (TF32) or three (3×TF32).</summary>
    public static int MmasPerSlab(string kernel) => Split(kernel) ? 48 : 16;

    /// <summary>cvt.rna.tf32.f32 per slab: the 16 A and 8 B fragment registers a lane loads, once more for the small halves of 3×TF32.</summary>
    public static int CvtsPerSlab(string kernel) => Split(kernel) ? 48 : 24;

    private static bool Split(string kernel) => kernel.Contains("3xTf32", StringComparison.Ordinal);

    /// <summary>
    /// Threshold violations of the tensor-core GEMM kernels (empty when they meet them all): their main loop, one
    /// iteration per 8-deep slab, holds one mma.sync per 16 × 8 block and pass, at least one cvt.rna.tf32.f32 per
    /// fragment register loaded (24 a pass), no integer div/rem, and 128-bit global loads (the staging's).
    /// </summary>
    public static IReadOnlyList<string> TensorViolations(IReadOnlyList<PtxLoopReport> reports)
    {
        var problems = new List<string>();
        var tensor = TensorReports(reports).ToList();
        if (tensor.Count == 0) problems.Add("no tensor-core kernel was compiled");
        foreach (var r in tensor)
        {
            int mmas = MmasPerSlab(r.Kernel), cvts = CvtsPerSlab(r.Kernel);
            if (r.MainLoopMmas < mmas) problems.Add($"{r.Kernel}: {r.MainLoopMmas} mma.sync in the main loop, below {mmas} (one per 16 × 8 block and pass)");
            if (r.MainLoopTf32Cvts < cvts) problems.Add($"{r.Kernel}: {r.MainLoopTf32Cvts} cvt.rna.tf32.f32 in the main loop, below {cvts}");
            if (r.MainLoopDivRem > 0) problems.Add($"{r.Kernel}: {r.MainLoopDivRem} integer div/rem in the main loop");
            if (!r.VectorGlobalLoads) problems.Add($"{r.Kernel}: no 128-bit global loads in the main loop");
        }
        return problems;
    }

    /// <summary>Threshold violations of the three convolution kernels at every reported shape: the GEMM's thresholds.</summary>
    public static IReadOnlyList<string> ConvViolations(IReadOnlyList<PtxLoopReport> reports)
    {
        var problems = new List<string>();
        foreach (var conv in reports.Where(r => r.Kernel.StartsWith("ConvKernels.", StringComparison.Ordinal)))
            Check(conv, problems);
        return problems;
    }

    private static void Check(PtxLoopReport gemm, List<string> problems)
    {
        if (gemm.FmasPerSharedLoad < GemmMinFmasPerSharedLoad)
            problems.Add($"{gemm.Kernel}: {gemm.FmasPerSharedLoad:0.0} FMAs per shared load in the main loop, below {GemmMinFmasPerSharedLoad}");
        if (gemm.MainLoopDivRem > 0) problems.Add($"{gemm.Kernel}: {gemm.MainLoopDivRem} integer div/rem in the main loop");
        if (!gemm.VectorGlobalLoads) problems.Add($"{gemm.Kernel}: no 128-bit global loads in the main loop");
        if (!gemm.VectorSharedLoads) problems.Add($"{gemm.Kernel}: no 128-bit shared loads in the main loop");
    }

    /// <summary>Threshold violations of the tiled attention kernels at both head widths (empty when they meet them all).</summary>
    public static IReadOnlyList<string> AttentionViolations(IReadOnlyList<PtxLoopReport> reports)
    {
        var problems = new List<string>();
        foreach (var r in reports.Where(r => r.Kernel.StartsWith("AttentionKernels.", StringComparison.Ordinal)))
        {
            if (r.FmasPerSharedLoad < AttentionMinFmasPerSharedLoad)
                problems.Add($"{r.Kernel}: {r.FmasPerSharedLoad:0.0} FMAs per shared load in the main loop, below {AttentionMinFmasPerSharedLoad}");
            if (r.MainLoopDivRem > 0) problems.Add($"{r.Kernel}: {r.MainLoopDivRem} integer div/rem in the main loop");
        }
        return problems;
    }

    /// <summary>The report as committed in bench/results/ptx-report.txt: one block per kernel, then the GEMM, convolution and attention verdicts, then the tensor-core kernels and their verdict.</summary>
    public static string Format(IReadOnlyList<PtxLoopReport> reports)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"PTX of the hot kernels (ILGPU {typeof(Context).Assembly.GetName().Version}, O2, {Architecture}); static instruction counts");
        s.AppendLine("main loop = the loop whose own body (nested loops excluded) holds the most FMAs; fma = fma or contractible mul+add; registers = PTX virtual registers");
        s.AppendLine();
        foreach (var r in reports.Except(TensorReports(reports)))
        {
            string ratio = double.IsPositiveInfinity(r.FmasPerSharedLoad) ? "-" : r.FmasPerSharedLoad.ToString("0.0", c);
            s.AppendLine(r.Kernel);
            s.AppendLine(c, $"  main loop: {r.MainLoopFmas} fma, {r.MainLoopSharedLoads} shared loads, {ratio} fma per shared load");
            s.AppendLine(c, $"  main loop loads: {(r.MainLoopLoads.Count == 0 ? "none" : string.Join(", ", r.MainLoopLoads.Select(kv => $"{kv.Key} ×{kv.Value}")))}");
            s.AppendLine(c, $"  integer div/rem: {r.MainLoopDivRem} in the main loop, {r.LoopDivRem} in all loops");
            s.AppendLine(c, $"  virtual registers: {r.VirtualRegisters}");
        }
        s.AppendLine();
        var problems = GemmViolations(reports);
        s.AppendLine(problems.Count == 0
            ? $"GEMM thresholds met: ≥ {GemmMinFmasPerSharedLoad} fma per shared load, no div/rem in the main loop, 128-bit global and shared loads"
            : "GEMM thresholds NOT met:\n  " + string.Join("\n  ", problems));
        var conv = ConvViolations(reports);
        s.AppendLine(conv.Count == 0
            ? "Convolution thresholds met: the GEMM's, in the forward, data-gradient and weight-gradient main loops"
            : "Convolution thresholds NOT met:\n  " + string.Join("\n  ", conv));
        var attention = AttentionViolations(reports);
        s.AppendLine(attention.Count == 0
            ? $"Attention thresholds met: ≥ {AttentionMinFmasPerSharedLoad} fma per shared load, no div/rem in the main loop"
            : "Attention thresholds NOT met:\n  " + string.Join("\n  ", attention));
        FormatTensor(s, reports);
        return s.ToString();
    }

    /// <summary>The tensor-core section: the kernels the CUDA backend launches for TF32 and 3×TF32 products.</summary>
    private static void FormatTensor(StringBuilder s, IReadOnlyList<PtxLoopReport> reports)
    {
        var c = CultureInfo.InvariantCulture;
        s.AppendLine();
        s.AppendLine("Tensor-core GEMM (DK_GPU_MATMUL=tf32 / 3xtf32 on CUDA): inline mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32, same compilation");
        s.AppendLine("main loop = the loop with the most mma.sync (one iteration per 8-deep slab); local = ld.local/st.local, ILGPU's way of passing inline-PTX operands (ptxas is left to keep them in registers)");
        s.AppendLine();
        foreach (var r in TensorReports(reports))
        {
            s.AppendLine(r.Kernel);
            s.AppendLine(c, $"  main loop: {r.MainLoopMmas} mma.sync ({MmasPerSlab(r.Kernel) / 16} per 16 × 8 block), {r.MainLoopTf32Cvts} cvt.rna.tf32.f32, {r.MainLoopSharedLoads} shared loads, {r.MainLoopLocal} local");
            s.AppendLine(c, $"  main loop loads: {(r.MainLoopLoads.Count == 0 ? "none" : string.Join(", ", r.MainLoopLoads.Select(kv => $"{kv.Key} ×{kv.Value}")))}");
            s.AppendLine(c, $"  integer div/rem: {r.MainLoopDivRem} in the main loop, {r.LoopDivRem} in all loops");
            s.AppendLine(c, $"  virtual registers: {r.VirtualRegisters}");
        }
        s.AppendLine();
        var problems = TensorViolations(reports);
        s.AppendLine(problems.Count == 0
            ? "Tensor-core thresholds met: one mma.sync per 16 × 8 block and pass per slab (16, or 48 for 3×TF32), every fragment register through cvt.rna.tf32.f32, no div/rem in the main loop, 128-bit global loads"
            : "Tensor-core thresholds NOT met:\n  " + string.Join("\n  ", problems));
    }
}
