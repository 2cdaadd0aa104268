namespace DiffKernels.Bench.Harness;

/// <summary>
/// How long to warm up and how many timed runs to take. The warm-up is long enough for the JIT's
/// tiered compilation to replace the first, unoptimised code of every hot method.
/// </summary>
/// <param name="WarmupRuns">Untimed runs of each action before timing starts (at least this many).</param>
/// <param name="WarmupSeconds">Warm-up continues until this much time has passed as well.</param>
/// <param name="MinRuns">Timed runs of each action (at least).</param>
/// <param name="MaxRuns">Timed runs of each action (at most).</param>
/// <param name="MinSeconds">Timing continues past <paramref name="MinRuns"/> until this much time has passed.</param>
public sealed record TimingOptions(int WarmupRuns = 3, double WarmupSeconds = 1.0, int MinRuns = 7, int MaxRuns = 200, double MinSeconds = 1.5)
{
    /// <summary>A short setting for smoke runs and tests.</summary>
    public static TimingOptions Quick { get; } = new(WarmupRuns: 1, WarmupSeconds: 0, MinRuns: 3, MaxRuns: 3, MinSeconds: 0);

    /// <summary>One warm-up and one timed run: for rehearsing a run's sequence on the emulator (<c>dk bench --tiny</c>), not for timing.</summary>
    public static TimingOptions Once { get; } = new(WarmupRuns: 1, WarmupSeconds: 0, MinRuns: 1, MaxRuns: 1, MinSeconds: 0);
}
