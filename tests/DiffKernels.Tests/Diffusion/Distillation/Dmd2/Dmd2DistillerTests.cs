using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Dmd2;

public class Dmd2DistillerTests
{
    private static readonly Dmd2Options Short = new() { Steps = 6, BatchSize = 16, GeneratorLr = 1e-3f, FakeLr = 1e-3f, CheckpointEvery = 0, Seed = 3 };

    private static string SaveTeacher(TempDir dir)
    {
        string path = dir.File("teacher.safetensors");
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        ModelFactory.Save(path, net, extraMetadata: new Dictionary<string, string> { ["train.data"] = "toy:8gaussians", ["sigma_data"] = "0.5" });
        return path;
    }

    private static float[] Weights(Module m) => m.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();

    [Test]
    public void TheStudentMovesOnlyOnEveryFifthIterationAndTheFakeNetworkOnEvery()
    {
        using var dir = new TempDir();
        string teacher = SaveTeacher(dir);
        float[] Run(int steps, out float[] fake)
        {
            using var d = Dmd2Distiller.FromTeacher(FrozenTeacher.Load(teacher), Short with { Steps = steps, StudentSteps = 2 });
            d.Run();
            fake = Weights(d.Fake);
            return Weights(d.Student.Module);
        }
        var initial = Run(0, out var fake0);
        var one = Run(1, out var fake1);
        var five = Run(5, out var fake5);
        var six = Run(6, out var fake6);
        Assert.That(one, Is.Not.EqualTo(initial), "iteration 1 updates the student");
        Assert.That(five, Is.EqualTo(one), "iterations 2–5 leave it alone");
        Assert.That(six, Is.Not.EqualTo(five), "iteration 6 updates it again");
        Assert.That(new[] { fake0, fake1, fake5, fake6 }.Select(f => string.Join(",", f)).Distinct().Count(), Is.EqualTo(4), "the fake network moves every iteration");
    }

    [Test]
    public void AKStepCheckpointSamplesAtItsLevelsLikeTheRun()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        Tensor expected;
        double[] levels;
        using var scope = Tensor.Scope();
        using (var d = Dmd2Distiller.FromTeacher(FrozenTeacher.Load(SaveTeacher(dir)), Short with { StudentSteps = 4 }, outDir))
        {
            d.Run();
            expected = d.SampleEma(40, 7);
            levels = [.. d.Student.Levels];
        }
        Assert.That(levels, Is.EqualTo(new Dmd2Grid(1000).StudentLevels(4)));
        string checkpoint = Path.Combine(outDir, Dmd2Distiller.CheckpointFile);
        var metadata = SafeTensors.ReadHeader(checkpoint).Metadata;
        Assert.That(metadata[SamplerOptions.KindKey], Is.EqualTo("renoise"));
        Assert.That(metadata[CheckpointKeys.Method], Is.EqualTo(Dmd2Distiller.Method));

        string release = dir.File("student.safetensors");
        ReleaseCheckpoint.Export(checkpoint, release);
        foreach (var path in new[] { checkpoint, release })
        {
            using var model = PretrainedModel.Load(path);
            Assert.That((model.DefaultOptions.Kind, model.DefaultNfe, model.DefaultOptions.Sigmas), Is.EqualTo((SamplerKind.Renoise, 4, levels)), path);
            Assert.That(model.Sample(40, 7).Samples.ToArray(), Is.EqualTo(expected.ToArray()), path);
        }
        Assert.That(CheckpointKind.Of(release).Role, Is.EqualTo(ModelRole.Student));
    }

    [Test]
    public void AOneStepStudentIsTheOneStepGeneratorFromSigmaMax()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        using (var d = Dmd2Distiller.FromTeacher(FrozenTeacher.Load(SaveTeacher(dir)), Short with { Steps = 2 }, outDir)) d.Run();
        string checkpoint = Path.Combine(outDir, Dmd2Distiller.CheckpointFile);
        var loaded = ModelFactory.Load(checkpoint);
        using (loaded)
        {
            var generator = GeneratorCheckpoint.Wrap(loaded.Model, loaded.Metadata);
            Assert.That(generator, Is.TypeOf<OneStepGenerator>());
            Assert.That(((OneStepGenerator)generator).SigmaInit, Is.EqualTo(80.0));
        }
    }

    [Test]
    public void StepCountsTheGridCannotGiveAreRefused()
    {
        Assert.That(() => (Short with { StudentSteps = 0 }).Validate(), Throws.ArgumentException.With.Message.EqualTo("dmd2: 0 student steps cannot be taken from the 1000-point σ grid (1 to 1000 distinct levels)"));
        Assert.That(() => (Short with { StudentSteps = 9, GridPoints = 8 }).Validate(), Throws.ArgumentException.With.Message.Contains("9 student steps"));
        Assert.That(() => (Short with { FakeUpdatesPerGeneratorUpdate = 0 }).Validate(), Throws.ArgumentException.With.Message.Contains("fake updates"));
    }
}
