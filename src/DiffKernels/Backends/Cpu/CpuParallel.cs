namespace DiffKernels.Backends.Cpu;

/// <summary>Work splitting for CPU kernels: one place to tune (or replace with a persistent pool).</summary>
public static class CpuParallel
{
    /// <summary>Worker count used by the kernels.</summary>
    public static int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Runs body(start, end) over [0, n) in contiguous chunks; runs inline when the work
    /// (n × costPerItem) is too small to pay for threads.
    /// </summary>
    public static void For(long n, long costPerItem, Action<long, long> body)
    {
        const long minWorkPerTask = 32_768;
        long total = n * Math.Max(1, costPerItem);
        int tasks = (int)Math.Min(Math.Min(Workers * 4L, n), Math.Max(1, total / minWorkPerTask));
        if (tasks <= 1) { if (n > 0) body(0, n); return; }
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = Workers }, t =>
        {
            long s = n * t / tasks, e = n * (t + 1) / tasks;
            if (e > s) body(s, e);
        });
    }
}
