namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Work splitting for CPU kernels on a persistent worker pool. Ranges are cut into fixed chunks that
/// depend only on the range and <see cref="Workers"/>, so results never depend on which thread ran
/// which chunk; idle participants claim the next chunk, so a core stolen by another process delays
/// the step less.
/// </summary>
public static class CpuParallel
{
    private const long MinWorkPerChunk = 32_768;
    private static readonly RangeJob ForJob = new();

    /// <summary>Worker count used by the kernels (participants of one parallel region, the caller included).</summary>
    public static int Workers
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Workers), $"CpuParallel: {value} workers; need at least 1");
    } = Environment.ProcessorCount;

    /// <summary>
    /// Runs body(start, end) over [0, n) in contiguous chunks; runs inline when the work
    /// (n × costPerItem) is too small to pay for threads or when called from inside a parallel region.
    /// </summary>
    public static void For(long n, long costPerItem, Action<long, long> body)
    {
        long total = n * Math.Max(1, costPerItem);
        int chunks = (int)Math.Min(Math.Min(Workers * 4L, n), Math.Max(1, total / MinWorkPerChunk));
        if (chunks <= 1 || !WorkerPool.Shared.TryClaim())
        {
            if (n > 0) body(0, n);
            return;
        }
        try
        {
            ForJob.Set(n, chunks, body);
            WorkerPool.Shared.RunClaimed(Math.Min(Workers, chunks), ForJob.Run);
        }
        finally
        {
            ForJob.Set(0, 0, null);
            WorkerPool.Shared.Release();
        }
    }

    /// <summary>
    /// Runs body(i, count) for every participant i &lt; count at the same time (so participants may
    /// wait on each other). count is <paramref name="participants"/>, or 1 when the pool is busy
    /// (nested or concurrent use): the body must then do all the work itself.
    /// </summary>
    internal static void Run(int participants, Action<int, int> body)
    {
        if (participants <= 1 || !WorkerPool.Shared.TryClaim())
        {
            body(0, 1);
            return;
        }
        try
        {
            WorkerPool.Shared.RunClaimed(participants, body);
        }
        finally
        {
            WorkerPool.Shared.Release();
        }
    }

    /// <summary>Waits until every participant of the running <see cref="Run"/> job has reached this point.</summary>
    internal static void Barrier() => WorkerPool.Shared.JobBarrier.Wait();

    /// <summary>The state of the current <see cref="For"/>: one instance, since the pool runs one job at a time.</summary>
    private sealed class RangeJob
    {
        private long _n;
        private int _chunks;
        private int _next;
        private Action<long, long>? _body;

        public RangeJob() => Run = Claim;

        public Action<int, int> Run { get; }

        public void Set(long n, int chunks, Action<long, long>? body)
        {
            (_n, _chunks, _body, _next) = (n, chunks, body, 0);
        }

        private void Claim(int participant, int count)
        {
            for (int c = Interlocked.Increment(ref _next) - 1; c < _chunks; c = Interlocked.Increment(ref _next) - 1)
            {
                long s = _n * c / _chunks, e = _n * (c + 1) / _chunks;
                if (e > s) _body!(s, e);
            }
        }
    }
}
