using DiffKernels.Bench;
using DiffKernels.Bench.Harness;

namespace DiffKernels.Tests.Bench;

/// <summary>Rounds against PyTorch summarised: the median of the per-round ratios, their range, and the verdict on the median.</summary>
public class RoundSummaryTests
{
    private static BenchResult Round(double ours, double torch) =>
        new BenchResult("case", "cpu", "images/s", ours, null, null, null, 1000 / ours, 2, 5, null, null, null, PeakRssMb: ours)
            .Against(new BenchResult("case", "torch-1.13", "images/s", torch, null, null, null, 1000 / torch, 4, 5, null, null, "torch note", PeakRssMb: 300), BenchUnit.ImagesPerSecond);

    [Test]
    public void TheRatioIsTheMedianOfTheRoundsRatiosWithTheirRange()
    {
        // Round 2 ran while the host was slow for us only: its ratio is an outlier the median ignores.
        var r = RoundSummary.Combine([Round(120, 100), Round(60, 100), Round(140, 100)], target: 1.1);
        Assert.That(r.Ratio, Is.EqualTo(1.2).Within(1e-9));
        Assert.That(r.RatioMin, Is.EqualTo(0.6).Within(1e-9));
        Assert.That(r.RatioMax, Is.EqualTo(1.4).Within(1e-9));
        Assert.That(r.RoundRatios, Is.EqualTo(new[] { 1.2, 0.6, 1.4 }).Within(1e-9), "in round order");
        Assert.That(r.Rounds, Is.EqualTo(3));
        Assert.That(r.Ours, Is.EqualTo(120), "figures are medians over the rounds");
        Assert.That(r.Baseline, Is.EqualTo(100));
        Assert.That(r.Runs, Is.EqualTo(15));
        Assert.That(r.PeakRssMb, Is.EqualTo(140), "the highest peak of any round");
        Assert.That(r.BaselinePeakRssMb, Is.EqualTo(300));
        Assert.That(r.Note, Is.EqualTo("torch note"));
        Assert.That(r.Verdict, Is.EqualTo(RoundSummary.Meets));
    }

    [Test]
    public void TheMedianNotTheRatioOfMediansDecides()
    {
        // Per-round ratios 0.5, 2.0, 1.0, 4.0: median 1.5; the medians of each side (150 vs 100) would also say 1.5, but
        // with a target of 1.6 only the rounds' ratios matter, and an even count takes the middle two's mean.
        var r = RoundSummary.Combine([Round(50, 100), Round(200, 100), Round(100, 100), Round(400, 100)], target: 1.6);
        Assert.That(r.Ratio, Is.EqualTo(1.5).Within(1e-9));
        Assert.That(r.Verdict, Is.EqualTo(RoundSummary.Misses));
        Assert.That(RoundSummary.Combine([Round(50, 100), Round(200, 100), Round(100, 100), Round(400, 100)], target: 1.5).Verdict, Is.EqualTo(RoundSummary.Meets),
            "a median on the target meets it");
    }

    [Test]
    public void NoTargetNoVerdict()
    {
        var r = RoundSummary.Combine([Round(100, 80)], target: null);
        Assert.That(r.Ratio, Is.EqualTo(1.25).Within(1e-9));
        Assert.That((r.RatioMin, r.RatioMax, r.Rounds), Is.EqualTo((1.25, 1.25, (int?)1)));
        Assert.That(r.Target, Is.Null);
        Assert.That(r.Verdict, Is.Null);
    }

    [Test]
    public void RoundsWithoutABaselineAreRefused()
    {
        Assert.Throws<ArgumentException>(() => RoundSummary.Combine([], 1.0));
        var lone = new BenchResult("case", "cpu", "images/s", 1, null, null, null, 1, 0, 3, null, null, null);
        Assert.That(() => RoundSummary.Combine([Round(1, 1), lone], 1.0), Throws.ArgumentException.With.Message.Contains("no baseline"));
        Assert.That(RoundSummary.Median([3.0, 1.0, 2.0]), Is.EqualTo(2.0));
    }
}
