using System.Text.Json;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;

namespace DiffKernels.Tests.Diffusion.Distillation.Ddil;

/// <summary>
/// What --steps means on resume under DDIL: with the base's schedule period, a DMD2 run's β schedule spans the total of
/// the session (the same total continues the uninterrupted run bit for bit, a new total places the fractions on it from
/// the resume point on); a progressive-distillation run's schedule is per round and its total cannot pass the last round.
/// </summary>
public class DdilResumeTests
{
    private static readonly Dmd2Options Dmd2 = new()
    {
        BatchSize = 8, StudentSteps = 2, FakeUpdatesPerGeneratorUpdate = 1, GeneratorLr = 1e-3f, FakeLr = 1e-3f, LogEvery = 1, Seed = 3,
    };

    // The base's period (0) with the default warm-up 0.1 and ramp end 0.3.
    private static readonly DdilOptions Ddil = new() { MixProbability = 0.5, BufferSize = 4, RefreshEvery = 2, TeacherSubsteps = 1 };

    private static IDataSource Data => new ToyDataSource(GaussianMixtureToy.EightGaussians());

    private static FrozenTeacher Teacher() => new(new Mlp(new MlpConfig(Hidden: 8), new Generator(1)), new Edm());

    private static Dmd2Distiller StartDmd2(string outDir, int steps, int checkpointEvery = 0) =>
        Dmd2Distiller.FromTeacher(Teacher(), Dmd2 with { Steps = steps, CheckpointEvery = checkpointEvery }, outDir, Data, Ddil);

    private static JsonElement[] Log(string dir) =>
        File.ReadAllLines(Path.Combine(dir, RunLoop.LogFile)).Select(l => JsonDocument.Parse(l).RootElement).Where(l => l.TryGetProperty("beta_data", out _)).ToArray();

    private static double[] Betas(JsonElement line) =>
        [line.GetProperty("beta_data").GetDouble(), line.GetProperty("beta_teacher").GetDouble(), line.GetProperty("beta_student").GetDouble()];

    private static double[] Expected(int period, long iteration)
    {
        var w = DdilSchedule.At(Ddil with { SchedulePeriod = period }, iteration);
        return [w.Data, w.Teacher, w.Student];
    }

    [Test]
    public void ADmd2RunOnTheRunsPeriodResumedWithItsTotalIsBitExact()
    {
        using var dir = new TempDir();
        string straight = dir.File("straight"), split = dir.File("split");
        using (var run = StartDmd2(straight, 10)) run.Run();
        using var cancel = new CancellationTokenSource();
        using (var run = StartDmd2(split, 10, checkpointEvery: 2))
            Assert.That(run.Run(cancel.Token, p => { if (p.Step == 4) cancel.Cancel(); }).Step, Is.EqualTo(4));
        string checkpoint = Path.Combine(split, Dmd2Distiller.CheckpointFile);
        Assert.That(JsonDocument.Parse(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Ddil]).RootElement.GetProperty("schedule_period").GetInt32(),
            Is.Zero, "the base's period is recorded as the base's");
        using (var rest = Dmd2Distiller.Resume(checkpoint, Teacher(), 10, data: Data)) rest.Run();
        var a = SafeTensors.Load(Path.Combine(straight, Dmd2Distiller.CheckpointFile));
        var b = SafeTensors.Load(checkpoint);
        foreach (var (name, tensor) in a.Tensors) Assert.That(b.Tensors[name].ToArray(), Is.EqualTo(tensor.ToArray()), name);
        Assert.That(Log(split).Select(Betas), Is.EqualTo(Log(straight).Select(Betas)));
    }

    [Test]
    public void ADmd2RunResumedWithALargerTotalFollowsTheNewTotalsScheduleFromTheResumePointOn()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        using (var run = StartDmd2(outDir, 4)) run.Run();
        using (var rest = Dmd2Distiller.Resume(Path.Combine(outDir, Dmd2Distiller.CheckpointFile), Teacher(), 20, data: Data)) rest.Run();
        var log = Log(outDir);
        Assert.That(log.Select(l => l.GetProperty("step").GetInt64()), Is.EqualTo(Enumerable.Range(1, 20)));
        // A line of step s logs the weights of iteration s − 1.
        for (int i = 0; i < 4; i++) Assert.That(Betas(log[i]), Is.EqualTo(Expected(4, i)).Within(1e-12), $"first session, iteration {i}");
        for (int i = 4; i < 20; i++) Assert.That(Betas(log[i]), Is.EqualTo(Expected(20, i)).Within(1e-12), $"after the resume, iteration {i}");
        // Iteration 4 is in the new total's ramp (fraction 0.2); the first session's period would have restarted at data alone.
        Assert.That(Betas(log[4]), Is.EqualTo(new[] { 0.75, 0.1, 0.15 }).Within(1e-12));
        Assert.That(Expected(4, 4), Is.EqualTo(new[] { 1.0, 0, 0 }));
    }

    [Test]
    public void APdRunsTotalCannotPassItsLastRound()
    {
        using var dir = new TempDir();
        string outDir = dir.File("pd");
        var options = new ProgressiveOptions { BatchSize = 8, TeacherSteps = 4, FinalSteps = 2, StepsPerRound = 3, Steps = 2, Lr = 1e-3f, Seed = 4 };
        using (var run = ProgressiveDistiller.FromTeacher(Teacher(), Data, options, outDir, Ddil)) run.Run();
        string checkpoint = Path.Combine(outDir, ProgressiveDistiller.CheckpointFile);
        Assert.That(() => ProgressiveDistiller.Resume(checkpoint, Data, 4), Throws.ArgumentException.With.Message.Contains("4 steps exceed the 1 rounds × 3 steps per round"));
        using (var rest = ProgressiveDistiller.Resume(checkpoint, Data, 3)) Assert.That(rest.Run().Step, Is.EqualTo(3));
    }
}
