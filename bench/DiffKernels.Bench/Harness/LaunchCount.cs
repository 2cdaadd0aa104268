using DiffKernels.Gpu;

namespace DiffKernels.Bench.Harness;

/// <summary>Kernel launches of one run of a case on a GPU backend, per kernel, most launched first.</summary>
/// <param name="Case">The case's name.</param>
/// <param name="Kernels">Launches per run of each kernel that ran (the backend's member that launches it).</param>
/// <param name="HostWaits">Times per run the host waited for the device (<see cref="GpuBackend.HostWaits"/>).</param>
public sealed record LaunchCount(string Case, IReadOnlyList<(string Kernel, double PerRun)> Kernels, double HostWaits)
{
    /// <summary>Launches per run, all kernels together.</summary>
    public double Total => Kernels.Sum(k => k.PerRun);

    /// <summary>
    /// Sets <paramref name="c"/> up on <paramref name="gpu"/>, runs it <paramref name="warmup"/> times (kernels compile
    /// there), then counts the launches of <paramref name="runs"/> more runs.
    /// </summary>
    public static LaunchCount Measure(BenchCase c, GpuBackend gpu, int warmup = 1, int runs = 1)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), $"launches: {runs} runs; need at least 1");
        using var run = c.Create(gpu);
        for (int i = 0; i < warmup; i++) run.Ours();
        var before = gpu.LaunchesByKernel;
        long waits = gpu.HostWaits;
        for (int i = 0; i < runs; i++) run.Ours();
        var kernels = gpu.LaunchesByKernel
            .Select(kv => (Kernel: kv.Key, PerRun: (double)(kv.Value - before.GetValueOrDefault(kv.Key)) / runs))
            .Where(k => k.PerRun > 0)
            .OrderByDescending(k => k.PerRun).ThenBy(k => k.Kernel, StringComparer.Ordinal)
            .ToList();
        return new LaunchCount(c.Name, kernels, (double)(gpu.HostWaits - waits) / runs);
    }
}
