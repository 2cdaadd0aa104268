using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;
using DiffKernels.Bench.Harness;
using DiffKernels.Bench.Report;
using DiffKernels.Gpu;

namespace DiffKernels.Bench;

/// <summary>Runs cases: sets each up, times ours and its baseline interleaved, and summarises.</summary>
public static class BenchRunner
{
    /// <summary>Runs <paramref name="c"/> on <paramref name="backend"/>.</summary>
    /// <param name="c">The case.</param>
    /// <param name="backend">Where ours runs.</param>
    /// <param name="options">Warm-up and repetitions.</param>
    /// <param name="withBaseline">Also time the in-process baseline (interleaved with ours).</param>
    /// <param name="clock">The clock (tests script one).</param>
    public static BenchResult Run(BenchCase c, IBackend backend, TimingOptions options, bool withBaseline = true, IBenchClock? clock = null)
    {
        // Buffers pooled by earlier cases have other shapes; dropped first, they do not count in this case's peak memory.
        CpuBackend.Instance.ReleasePooledMemory();
        using var run = c.Create(backend);
        var baseline = withBaseline ? run.Baseline : Baseline.None("in-process baseline not run");
        // Every run of ours (warm-up ones too) launches the same kernels, so launches over runs is exact.
        var gpu = backend as GpuBackend;
        long runs = 0, launchesBefore = gpu?.KernelLaunches ?? 0;
        var actions = new List<Action> { () => { run.Ours(); runs++; } };
        if (baseline.Run != null) actions.Add(baseline.Run);
        MachineInfo.ResetPeakRss();
        var samples = InterleavedTimer.Run(actions, options, clock ?? StopwatchClock.Instance);
        double? launches = gpu != null && runs > 0 ? (double)(gpu.KernelLaunches - launchesBefore) / runs : null;
        return Summarise(c, backend.Name, baseline, samples) with { PeakRssMb = MachineInfo.PeakRssMb(), LaunchesPerRun = launches };
    }

    /// <summary>The result of a case from its timed runs: samples[0] ours, samples[1] the baseline's when it ran.</summary>
    public static BenchResult Summarise(BenchCase c, string backend, Baseline baseline, double[][] samples)
    {
        var ours = TimingStats.From(samples[0]);
        double oursValue = c.Unit.Value(c.Work, ours.Median);
        TimingStats? theirs = samples.Length > 1 ? TimingStats.From(samples[1]) : null;
        double? baseValue = theirs == null ? null : c.Unit.Value(c.Work, theirs.Median);
        return new BenchResult(
            c.Name, backend, c.Unit.Text(),
            BenchResult.Round(oursValue),
            theirs == null ? null : baseline.Name,
            baseValue is { } b ? BenchResult.Round(b) : null,
            baseValue is { } v ? BenchResult.Round(c.Unit.Ratio(oursValue, v)) : null,
            BenchResult.Round(ours.Median * 1e3),
            BenchResult.Round(ours.IqrPercent),
            ours.Runs,
            theirs == null ? null : BenchResult.Round(theirs.Median * 1e3),
            theirs == null ? null : BenchResult.Round(theirs.IqrPercent),
            baseline.Missing);
    }
}
