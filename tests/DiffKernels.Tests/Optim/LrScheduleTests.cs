using DiffKernels.Optim;

namespace DiffKernels.Tests.Optim;

public class LrScheduleTests
{
    [Test]
    public void ConstantWithWarmup()
    {
        var s = LrSchedule.Constant(1e-3f, warmupSteps: 4);
        Assert.That(new[] { 0, 1, 2, 3, 4, 5, 1000 }.Select(t => s.At(t)),
            Is.EqualTo(new[] { 0, 0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3 }).Within(1e-10));
        Assert.That(LrSchedule.Constant(2f).At(0), Is.EqualTo(2f));
    }

    [Test]
    public void CosineDecaysToTheFloorAndHoldsIt()
    {
        var s = LrSchedule.Cosine(1f, warmupSteps: 10, totalSteps: 110, floor: 0.1f);
        Assert.That(s.At(5), Is.EqualTo(0.5f).Within(1e-7));
        Assert.That(s.At(10), Is.EqualTo(1f).Within(1e-7));
        Assert.That(s.At(35), Is.EqualTo(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * 0.25))).Within(1e-6));
        Assert.That(s.At(60), Is.EqualTo(0.55f).Within(1e-6));
        Assert.That(s.At(110), Is.EqualTo(0.1f));
        Assert.That(s.At(500), Is.EqualTo(0.1f));
        for (int t = 11; t <= 110; t++) Assert.That(s.At(t), Is.LessThanOrEqualTo(s.At(t - 1)), $"step {t}");
    }

    [Test]
    public void CosineWithoutWarmupStartsAtThePeak()
    {
        var s = LrSchedule.Cosine(2f, 0, 4);
        Assert.That(new[] { 0, 1, 2, 3, 4 }.Select(t => s.At(t)), Is.EqualTo(new[] { 2, 1 + Math.Sqrt(0.5), 1, 1 - Math.Sqrt(0.5), 0 }).Within(1e-6));
    }

    [Test]
    public void RejectsInconsistentSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Cosine(1f, 10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Cosine(1f, 0, 5, floor: 2f));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Constant(-1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Constant(1f).At(-1));
    }
}
