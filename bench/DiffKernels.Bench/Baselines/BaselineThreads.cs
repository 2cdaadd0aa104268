namespace DiffKernels.Bench.Baselines;

/// <summary>Threads the baselines use: all cores unless <c>dk bench --threads</c> sets fewer (for ours and theirs alike).</summary>
public static class BaselineThreads
{
    /// <summary>The thread count.</summary>
    public static int Count
    {
        get;
        set => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Count), $"bench: {value} threads; need at least 1");
    } = Environment.ProcessorCount;

    /// <summary>Parallel-loop options capped at <see cref="Count"/>.</summary>
    public static ParallelOptions Options => new() { MaxDegreeOfParallelism = Count };
}
