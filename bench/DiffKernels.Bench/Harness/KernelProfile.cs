using System.Diagnostics;
using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;

namespace DiffKernels.Bench.Harness;

/// <summary>One kernel's share of a profiled case: calls and time per run of the case.</summary>
/// <param name="Kernel">The backend member, with its op or convolution geometry.</param>
/// <param name="CallsPerRun">Calls in one run of the case.</param>
/// <param name="MsPerRun">Milliseconds spent in those calls per run.</param>
public sealed record KernelTime(string Kernel, double CallsPerRun, double MsPerRun);

/// <summary>Where one run of a case spends its time: every kernel, and what lies outside them.</summary>
/// <param name="Case">The case's name.</param>
/// <param name="MsPerRun">Wall-clock milliseconds of one profiled run.</param>
/// <param name="Kernels">Kernels, slowest first.</param>
public sealed record KernelProfile(string Case, double MsPerRun, IReadOnlyList<KernelTime> Kernels)
{
    /// <summary>Milliseconds per run outside every kernel: autograd, allocation, dispatch, the case's own code.</summary>
    public double OutsideMs => MsPerRun - Kernels.Sum(k => k.MsPerRun);

    /// <summary>
    /// Runs <paramref name="c"/> on <paramref name="backend"/> behind a timing wrapper: <paramref name="warmup"/>
    /// runs, then <paramref name="runs"/> timed ones whose kernel times are averaged. Kernels of an asynchronous
    /// backend are synchronised one by one, so each is charged its own device time (and the run is slower than
    /// unprofiled).
    /// </summary>
    public static KernelProfile Measure(BenchCase c, IBackend backend, int warmup = 2, int runs = 3)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), $"profile: {runs} runs; need at least 1");
        var timer = new TimingBackend(backend);
        using var run = c.Create(timer);
        for (int i = 0; i < warmup; i++) run.Ours();
        timer.Reset();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++) run.Ours();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / runs;
        var kernels = timer.Totals
            .Select(kv => new KernelTime(kv.Key, (double)kv.Value.Calls / runs, Stopwatch.GetElapsedTime(0, kv.Value.Ticks).TotalMilliseconds / runs))
            .OrderByDescending(k => k.MsPerRun)
            .ToList();
        return new KernelProfile(c.Name, ms, kernels);
    }

    /// <summary>Adds up calls and time per label; calls never nest, since the inner backend does not call back.</summary>
    private sealed class TimingBackend(IBackend inner) : ForwardingBackend(inner)
    {
        private readonly bool _synchronous = inner is CpuBackend;
        private string _label = "";
        private long _start;

        public Dictionary<string, (long Calls, long Ticks)> Totals { get; } = [];

        public void Reset() => Totals.Clear();

        protected override void Enter(string label)
        {
            _label = label;
            _start = Stopwatch.GetTimestamp();
        }

        protected override void Exit()
        {
            if (!_synchronous) Inner.Synchronize();
            long ticks = Stopwatch.GetTimestamp() - _start;
            var (calls, total) = Totals.GetValueOrDefault(_label);
            Totals[_label] = (calls + 1, total + ticks);
        }
    }
}
