using DiffKernels.Backends.Cpu;
using DiffKernels.Bench;
using DiffKernels.Bench.Harness;

namespace DiffKernels.Tests.Bench;

/// <summary>The sampler and its statistics on fake cases driven by a scripted clock: no real timing.</summary>
public class HarnessTests
{
    private sealed class ScriptedClock : IBenchClock
    {
        public double T;
        public double Now => T;
    }

    /// <summary>An action that advances the clock by the next scripted duration and counts its calls.</summary>
    private sealed class FakeWork(ScriptedClock clock, params double[] durations)
    {
        public int Calls;
        public void Run() => clock.T += durations[Calls++ % durations.Length];
    }

    [Test]
    public void WarmsUpThenTakesTheMinimumRunsAndStopsAtTheMaximum()
    {
        var clock = new ScriptedClock();
        var work = new FakeWork(clock, 0.001);
        var samples = InterleavedTimer.Run([work.Run], new TimingOptions(WarmupRuns: 3, WarmupSeconds: 0, MinRuns: 5, MaxRuns: 9, MinSeconds: 100), clock);
        Assert.That(samples, Has.Length.EqualTo(1));
        Assert.That(samples[0], Has.Length.EqualTo(9), "MinSeconds is never reached, so MaxRuns bounds the timed runs");
        Assert.That(work.Calls, Is.EqualTo(3 + 9));
    }

    [Test]
    public void WarmUpAndTimingContinueUntilTheirTimeHasPassed()
    {
        var clock = new ScriptedClock();
        var work = new FakeWork(clock, 0.1);
        var samples = InterleavedTimer.Run([work.Run], new TimingOptions(WarmupRuns: 1, WarmupSeconds: 0.45, MinRuns: 2, MaxRuns: 100, MinSeconds: 1.0), clock);
        Assert.That(samples[0], Has.Length.EqualTo(10));
        Assert.That(work.Calls, Is.EqualTo(5 + 10));
    }

    [Test]
    public void InterleavesActionsAndTimesEachSeparately()
    {
        var clock = new ScriptedClock();
        var order = new List<char>();
        var samples = InterleavedTimer.Run(
            [() => { order.Add('a'); clock.T += 2; }, () => { order.Add('b'); clock.T += 5; }],
            new TimingOptions(WarmupRuns: 0, WarmupSeconds: 0, MinRuns: 4, MaxRuns: 4, MinSeconds: 0), clock);
        Assert.That(new string(order.ToArray()), Is.EqualTo("abbaabba"));
        Assert.That(samples[0], Is.All.EqualTo(2.0));
        Assert.That(samples[1], Is.All.EqualTo(5.0));
    }

    [Test]
    public void StatisticsAreOrderStatisticsWithInterpolatedQuartiles()
    {
        var s = TimingStats.From([5.0, 1.0, 4.0, 2.0, 3.0, 100.0]);
        Assert.That(s.Runs, Is.EqualTo(6));
        Assert.That(s.Min, Is.EqualTo(1.0));
        Assert.That(s.Max, Is.EqualTo(100.0));
        Assert.That(s.Median, Is.EqualTo(3.5).Within(1e-12));
        Assert.That(s.Q1, Is.EqualTo(2.25).Within(1e-12));
        Assert.That(s.Q3, Is.EqualTo(4.75).Within(1e-12));
        Assert.That(s.IqrPercent, Is.EqualTo(2.5 / 3.5 * 100).Within(1e-9));
        Assert.That(TimingStats.From([7.0]).Median, Is.EqualTo(7.0));
        Assert.Throws<ArgumentException>(() => TimingStats.From([]));
    }

    [Test]
    public void FakeCaseYieldsRatesAndRatioFromMedians()
    {
        // Ours alternates 1 ms and 3 ms runs around a 2 ms median; the baseline always takes 4 ms.
        var clock = new ScriptedClock();
        var ours = new FakeWork(clock, 0.001, 0.002, 0.003);
        var theirs = new FakeWork(clock, 0.004);
        var c = new BenchCase("fake", "fake", "a scripted case", BenchUnit.GflopPerSecond, 2e9, _ => new FakeRun(ours.Run, theirs.Run));
        var opts = new TimingOptions(WarmupRuns: 0, WarmupSeconds: 0, MinRuns: 9, MaxRuns: 9, MinSeconds: 0);
        var r = BenchRunner.Run(c, CpuBackend.Instance, opts, clock: clock);
        Assert.That(r.Runs, Is.EqualTo(9));
        Assert.That(r.OursMs, Is.EqualTo(2.0).Within(1e-9));
        Assert.That(r.Ours, Is.EqualTo(1000.0).Within(1e-6), "2 GFLOP in 2 ms");
        Assert.That(r.Baseline, Is.EqualTo(500.0).Within(1e-6));
        Assert.That(r.Ratio, Is.EqualTo(2.0).Within(1e-9));
        Assert.That(r.BaselineName, Is.EqualTo("fake-baseline"));
        Assert.That(r.OursSpreadPct, Is.EqualTo(100.0).Within(1e-6), "quartiles at 1 and 3 ms around a 2 ms median");
    }

    [Test]
    public void WithoutABaselineTheReasonIsKept()
    {
        var clock = new ScriptedClock();
        var ours = new FakeWork(clock, 0.5);
        var c = new BenchCase("fake", "fake", "a scripted case", BenchUnit.MsPerStep, 0, _ => new FakeRun(ours.Run, null));
        var r = BenchRunner.Run(c, CpuBackend.Instance, TimingOptions.Quick, clock: clock);
        Assert.That(r.Ours, Is.EqualTo(500.0).Within(1e-9), "ms/step is the median time");
        Assert.That(r.Baseline, Is.Null);
        Assert.That(r.Ratio, Is.Null);
        Assert.That(r.Note, Is.EqualTo("nothing to compare"));
    }

    [Test]
    public void RatioIsAboveOneWhenOursIsFasterInEveryUnit()
    {
        Assert.That(BenchUnit.GflopPerSecond.Ratio(200, 100), Is.EqualTo(2.0));
        Assert.That(BenchUnit.GBPerSecond.Ratio(50, 100), Is.EqualTo(0.5));
        Assert.That(BenchUnit.MsPerStep.Ratio(100, 200), Is.EqualTo(2.0), "fewer ms per step is faster");
        Assert.That(BenchUnit.GBPerSecond.Value(3e9, 0.5), Is.EqualTo(6.0));
        Assert.That(BenchUnit.MsPerStep.Value(123, 0.25), Is.EqualTo(250.0));
    }

    private sealed class FakeRun(Action ours, Action? baseline) : CaseRun
    {
        public override void Ours() => ours();

        public override Baseline Baseline => baseline == null ? Baseline.None("nothing to compare") : Baseline.Of("fake-baseline", baseline);
    }
}
