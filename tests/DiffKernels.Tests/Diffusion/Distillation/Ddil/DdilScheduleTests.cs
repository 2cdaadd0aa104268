using DiffKernels.Diffusion.Distillation.Ddil;

namespace DiffKernels.Tests.Diffusion.Distillation.Ddil;

/// <summary>The β schedule of ALGORITHMS.md §6 and the options' validation.</summary>
public class DdilScheduleTests
{
    [Test]
    public void TheWeightsStayOnDataForTheWarmUpThenMoveLinearlyToTheFinalMixAndRestartEachPeriod()
    {
        var options = new DdilOptions { SchedulePeriod = 1000 };
        Assert.That(DdilSchedule.At(options, 0), Is.EqualTo(new DdilWeights(1, 0, 0)));
        Assert.That(DdilSchedule.At(options, 99), Is.EqualTo(new DdilWeights(1, 0, 0)));
        var middle = DdilSchedule.At(options, 200);
        Assert.That(new[] { middle.Data, middle.Teacher, middle.Student }, Is.EqualTo(new[] { 0.75, 0.1, 0.15 }).Within(1e-12));
        foreach (long step in new long[] { 300, 650, 999 })
        {
            var w = DdilSchedule.At(options, step);
            Assert.That(new[] { w.Data, w.Teacher, w.Student }, Is.EqualTo(new[] { 0.5, 0.2, 0.3 }).Within(1e-12), $"step {step}");
        }
        Assert.That(DdilSchedule.At(options, 1000), Is.EqualTo(new DdilWeights(1, 0, 0)), "a new period (a new PD round) warms up again");
        for (long step = 0; step < 1000; step += 37)
        {
            var w = DdilSchedule.At(options, step);
            Assert.That(w.Data + w.Teacher + w.Student, Is.EqualTo(1).Within(1e-12));
        }
    }

    [Test]
    public void AScheduleWithoutWarmUpStartsAtTheFinalMix()
    {
        var w = DdilSchedule.At(new DdilOptions { SchedulePeriod = 10, WarmupFraction = 0, RampEndFraction = 0, DataWeight = 0, TeacherWeight = 1, StudentWeight = 0 }, 0);
        Assert.That(w, Is.EqualTo(new DdilWeights(0, 1, 0)));
        Assert.That(() => DdilSchedule.At(new DdilOptions(), 0), Throws.ArgumentException.With.Message.Contains("unresolved"));
    }

    [TestCase(1.5, 0.2, 0.3, "β_data 1.5 must lie in [0, 1]")]
    [TestCase(0.5, -0.1, 0.6, "β_teacher -0.1 must lie in [0, 1]")]
    [TestCase(0.5, 0.2, 0.2, "must sum to 1")]
    public void WeightsOutsideTheSimplexAreRefused(double data, double teacher, double student, string message) =>
        Assert.That(() => new DdilOptions { DataWeight = data, TeacherWeight = teacher, StudentWeight = student }.Validate(),
            Throws.ArgumentException.With.Message.Contains(message));

    [Test]
    public void OtherSettingsAreValidatedAndTheOptionsRoundTripThroughJson()
    {
        Assert.That(() => new DdilOptions { MixProbability = 2 }.Validate(), Throws.ArgumentException.With.Message.Contains("mix probability 2"));
        Assert.That(() => new DdilOptions { WarmupFraction = 0.5, RampEndFraction = 0.2 }.Validate(), Throws.ArgumentException.With.Message.Contains("warm-up fraction"));
        Assert.That(() => new DdilOptions { BufferSize = 0 }.Validate(), Throws.ArgumentException.With.Message.Contains("buffer size 0"));
        Assert.That(() => new DdilOptions { RefreshEvery = 0 }.Validate(), Throws.ArgumentException.With.Message.Contains("refresh interval 0"));
        Assert.That(() => new DdilOptions { TeacherSubsteps = 0 }.Validate(), Throws.ArgumentException.With.Message.Contains("teacher substeps 0"));
        Assert.That(() => new DdilOptions { Threshold = 1.5f }.Validate(), Throws.ArgumentException.With.Message.Contains("threshold"));
        var options = new DdilOptions { DataWeight = 0.6, TeacherWeight = 0.1, StudentWeight = 0.3, MixProbability = 0.25, SchedulePeriod = 7, Threshold = 0f };
        Assert.That(DdilOptions.FromJson(options.ToJson()), Is.EqualTo(options));
    }
}
