namespace DiffKernels.Bench.Harness;

/// <summary>Order statistics of a set of run times (seconds).</summary>
/// <param name="Runs">Number of timed runs.</param>
/// <param name="Median">Median run time.</param>
/// <param name="Q1">First quartile.</param>
/// <param name="Q3">Third quartile.</param>
/// <param name="Min">Fastest run.</param>
/// <param name="Max">Slowest run.</param>
public sealed record TimingStats(int Runs, double Median, double Q1, double Q3, double Min, double Max)
{
    /// <summary>The interquartile range as a percentage of the median: the run-to-run spread.</summary>
    public double IqrPercent => Median > 0 ? (Q3 - Q1) / Median * 100 : 0;

    /// <summary>Statistics of <paramref name="seconds"/> (at least one sample).</summary>
    public static TimingStats From(IReadOnlyCollection<double> seconds)
    {
        if (seconds.Count == 0) throw new ArgumentException("bench: no timed runs to summarise", nameof(seconds));
        var s = seconds.Order().ToArray();
        return new TimingStats(s.Length, Quantile(s, 0.5), Quantile(s, 0.25), Quantile(s, 0.75), s[0], s[^1]);
    }

    /// <summary>The q-quantile of sorted values, interpolating linearly between order statistics.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
