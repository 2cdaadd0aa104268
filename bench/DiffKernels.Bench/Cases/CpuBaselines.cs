using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;

namespace DiffKernels.Bench.Cases;

/// <summary>The CPU yardsticks, offered only where ours runs on the CPU backend.</summary>
internal static class CpuBaselines
{
    /// <summary>An OpenBLAS-based baseline, or the reason it cannot run.</summary>
    public static Baseline OpenBlas(IBackend be, Action run, string name = "openblas") =>
        be.Name != "cpu" ? Baseline.None($"no in-process baseline for backend {be.Name}")
        : !Baselines.OpenBlas.Available ? Baseline.None(Baselines.OpenBlas.Status, name)
        : Baseline.Of(name, run);

    /// <summary>The memory-stream baseline for a bandwidth-bound case.</summary>
    public static Baseline Stream(IBackend be, StreamBaseline? stream) =>
        be.Name != "cpu" || stream == null ? Baseline.None($"no in-process baseline for backend {be.Name}")
        : Baseline.Of(stream.Name, stream.Run);
}
