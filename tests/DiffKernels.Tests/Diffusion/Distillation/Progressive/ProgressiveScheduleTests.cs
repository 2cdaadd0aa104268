using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Schedules;

namespace DiffKernels.Tests.Diffusion.Distillation.Progressive;

/// <summary>The halving schedule of progressive distillation: rounds, the students' levels, the teacher midpoints and the learning rate.</summary>
public class ProgressiveScheduleTests
{
    private static ProgressiveSchedule Schedule(int teacherSteps = 64, int finalSteps = 1, int perRound = 10) =>
        new(new ProgressiveOptions { TeacherSteps = teacherSteps, FinalSteps = finalSteps, StepsPerRound = perRound, Steps = 0 });

    [TestCase(64, 1, 6)]
    [TestCase(64, 8, 3)]
    [TestCase(128, 4, 5)]
    [TestCase(2, 1, 1)]
    public void EachRoundHalvesTheSteps(int teacher, int final, int rounds)
    {
        var s = Schedule(teacher, final);
        Assert.That(s.Rounds, Is.EqualTo(rounds));
        Assert.That(Enumerable.Range(0, rounds).Select(s.StudentSteps), Is.EqualTo(Enumerable.Range(1, rounds).Select(r => teacher >> r)));
        Assert.That(s.StudentSteps(rounds - 1), Is.EqualTo(final));
    }

    [Test]
    public void StepCountsTheHalvingCannotGiveAreRefusedNamingTheOnesItCan()
    {
        var e = Assert.Throws<ArgumentException>(() => ProgressiveSchedule.RoundsBetween(64, 3))!;
        Assert.That(e.Message, Does.Contain("3 student steps cannot be reached").And.Contain("32, 16, 8, 4, 2, 1"));
        Assert.That(() => ProgressiveSchedule.RoundsBetween(64, 64), Throws.ArgumentException);
        Assert.That(() => ProgressiveSchedule.RoundsBetween(48, 3), Throws.ArgumentException.With.Message.Contains("power of two"));
        Assert.That(() => ProgressiveSchedule.RoundsBetween(1, 1), Throws.ArgumentException);
        Assert.That(ProgressiveSchedule.ReachableSteps(8), Is.EqualTo(new[] { 4, 2, 1 }));
        Assert.That(ProgressiveSchedule.ReachableSteps(48), Is.Empty);
        Assert.That(ProgressiveSchedule.IsHalvable(1), Is.False);
        Assert.That(() => new ProgressiveOptions { TeacherSteps = 64, FinalSteps = 1, StepsPerRound = 10, Steps = 61 }.Validate(),
            Throws.ArgumentException.With.Message.Contains("exceed the 6 rounds"));
    }

    [Test]
    public void StudentsSampleOnTheTeacherGridPointsTheyKeep()
    {
        var s = Schedule(16, 1);
        var grid = SigmaGrid.Karras(16);
        Assert.That(s.Grid, Is.EqualTo(grid));
        for (int round = 0; round < s.Rounds; round++)
        {
            int k = s.StudentSteps(round), stride = 16 / k;
            Assert.That(s.StudentLevels(round), Is.EqualTo(Enumerable.Range(0, k).Select(i => grid[i * stride])), $"round {round}");
            for (int i = 0; i < k; i++)
            {
                var (a, b, c) = s.Levels(round, i);
                Assert.That((a, b, c), Is.EqualTo((grid[i * stride], grid[i * stride + stride / 2], grid[(i + 1) * stride])));
                Assert.That(a > b && b > c, $"σb lies between σa and σc in round {round}, step {i}");
            }
        }
        Assert.That(s.StudentLevels(s.Rounds - 1), Is.EqualTo(new[] { 80.0 }), "the one-step student denoises from σ_max");
        Assert.That(s.Levels(s.Rounds - 1, 0), Is.EqualTo((80.0, grid[8], 0.0)));
    }

    [Test]
    public void RoundsStartAfterTheirPredecessorsAndTheLearningRateDecaysWithinEach()
    {
        var s = Schedule(8, 1, perRound: 4);
        Assert.That(Enumerable.Range(0, 12).Select(i => s.RoundAt(i)), Is.EqualTo(new[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2 }));
        Assert.That(Enumerable.Range(0, 13).Where(i => s.StartsRound(i)), Is.EqualTo(new[] { 4, 8 }));
        Assert.That(new long[] { 0, 1, 4, 5, 12 }.Select(s.RoundAfter), Is.EqualTo(new[] { 0, 0, 0, 1, 2 }), "a state at a round's end holds that round's student");
        Assert.That(Enumerable.Range(4, 4).Select(i => s.LearningRate(1f, i)), Is.EqualTo(new[] { 1f, 0.75f, 0.5f, 0.25f }));
    }
}
