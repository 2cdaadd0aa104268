namespace DiffKernels.Bench.Harness;

/// <summary>
/// One case timed against PyTorch in several rounds, each round's two sides seconds apart, summarised so that a host
/// whose speed drifts from round to round widens the spread instead of swinging the verdict: the median of the
/// per-round ratios, their range, and the verdict on that median.
/// </summary>
public static class RoundSummary
{
    /// <summary>The verdict of a median ratio at or above its target.</summary>
    public const string Meets = "meets target";

    /// <summary>The verdict of a median ratio below its target.</summary>
    public const string Misses = "misses target";

    /// <summary>
    /// The rounds of one case, each already compared with PyTorch (<see cref="BenchResult.Against"/>), as one result:
    /// figures, times and spreads are medians over the rounds, the ratio is the median of the rounds' ratios (not the
    /// ratio of the medians), peak memory the highest of any round, runs the total. With <paramref name="target"/> the
    /// verdict compares the median ratio with it.
    /// </summary>
    public static BenchResult Combine(IReadOnlyList<BenchResult> rounds, double? target)
    {
        if (rounds.Count == 0) throw new ArgumentException("bench: no rounds to summarise", nameof(rounds));
        if (rounds.Any(r => r.Ratio == null || r.Baseline == null))
            throw new ArgumentException($"bench: a round of {rounds[0].Case} has no baseline to compare with", nameof(rounds));
        var ratios = rounds.Select(r => r.Ratio!.Value).ToArray();
        double ratio = BenchResult.Round(Median(ratios));
        var first = rounds[0];
        return first with
        {
            Ours = BenchResult.Round(Median(rounds.Select(r => r.Ours))),
            Baseline = BenchResult.Round(Median(rounds.Select(r => r.Baseline!.Value))),
            Ratio = ratio,
            OursMs = BenchResult.Round(Median(rounds.Select(r => r.OursMs))),
            OursSpreadPct = BenchResult.Round(Median(rounds.Select(r => r.OursSpreadPct))),
            Runs = rounds.Sum(r => r.Runs),
            BaselineMs = MedianOf(rounds.Select(r => r.BaselineMs)),
            BaselineSpreadPct = MedianOf(rounds.Select(r => r.BaselineSpreadPct)),
            PeakRssMb = rounds.Max(r => r.PeakRssMb),
            BaselinePeakRssMb = rounds.Max(r => r.BaselinePeakRssMb),
            Rounds = rounds.Count,
            RatioMin = ratios.Min(),
            RatioMax = ratios.Max(),
            RoundRatios = ratios,
            Target = target,
            Verdict = target is { } t ? (ratio >= t ? Meets : Misses) : null,
        };
    }

    /// <summary>The median of <paramref name="values"/> (at least one), the mean of the middle two for an even count.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("bench: no values to take the median of", nameof(values));
        return TimingStats.Quantile(sorted, 0.5);
    }

    private static double? MedianOf(IEnumerable<double?> values)
    {
        var present = values.Where(v => v != null).Select(v => v!.Value).ToArray();
        return present.Length == 0 ? null : BenchResult.Round(Median(present));
    }
}
