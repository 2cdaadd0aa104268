using System.Text.Json;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Diffusion.Distillation.DiffInstruct;

public class DiffInstructDistillerTests
{
    private static readonly DiffInstructOptions Short = new() { Steps = 12, BatchSize = 16, GeneratorLr = 1e-3f, AuxiliaryLr = 1e-3f, CheckpointEvery = 0, Seed = 3 };

    /// <summary>A small random Mlp teacher saved as a checkpoint that records toy:8gaussians as its data.</summary>
    private static string SaveTeacher(TempDir dir, ulong seed = 1, string name = "teacher.safetensors")
    {
        string path = dir.File(name);
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(seed));
        ModelFactory.Save(path, net, extraMetadata: new Dictionary<string, string> { ["train.data"] = "toy:8gaussians", ["sigma_data"] = "0.5" });
        return path;
    }

    private static float[] Weights(IReadOnlyDictionary<string, Tensor> state) => state.Values.SelectMany(t => t.ToArray()).ToArray();

    [Test]
    public void GeneratorAndAuxiliaryStartAsTeacherCopiesAndTheTeacherStaysFrozen()
    {
        using var dir = new TempDir();
        using var d = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(SaveTeacher(dir)), Short with { Steps = 3 });
        var teacher = (Mlp)d.Teacher.Net;
        var before = Weights(teacher.StateDict());
        Assert.That(Weights(d.Generator.Module.StateDict()), Is.EqualTo(before));
        Assert.That(Weights(d.Auxiliary.StateDict()), Is.EqualTo(before));
        Assert.That(teacher.Parameters().All(p => !p.RequiresGrad), "teacher parameters need no gradient");
        d.Run();
        Assert.That(Weights(teacher.StateDict()), Is.EqualTo(before), "teacher unchanged");
        Assert.That(teacher.Parameters().All(p => p.Grad == null), "no gradient ever reached the teacher");
        Assert.That(Weights(d.Generator.Module.StateDict()), Is.Not.EqualTo(before));
        Assert.That(Weights(d.Auxiliary.StateDict()), Is.Not.EqualTo(before));
        Assert.That(Weights(d.Generator.Module.StateDict()), Is.Not.EqualTo(Weights(d.Auxiliary.StateDict())));
        Assert.That(d.Generator.Module.Training || d.Auxiliary.Training, Is.False, "dropout off");
    }

    [Test]
    public void AnyDifferentiableGeneratorIsPulledToTheTeachersDistribution()
    {
        // An affine generator x = μ_g + a ⊙ z against an exact Gaussian teacher, with an auxiliary denoiser that is
        // exact for Gaussians and trained by the loop like any other: the generator must reach N(μ, diag s²).
        double[] mean = [0.0, 0.5], std = [0.8, 0.3];
        double[] mu0 = [1.0, -1.0], a0 = [0.3, 1.5];
        var edm = new Edm();
        using var d = new DiffInstructDistiller(new FrozenTeacher(new DiagonalGaussianDenoiser(edm, mean, std), edm),
            new AffineGenerator(mu0, a0), new GaussianAuxiliary(mu0, a0),
            new DiffInstructOptions { Steps = 600, BatchSize = 256, GeneratorLr = 1e-2f, AuxiliaryLr = 2e-2f, Seed = 1 });
        d.Run();
        var g = (AffineGenerator)d.Generator;
        double[] mu = g.MuValues(), a = g.ScaleValues().Select(Math.Abs).ToArray();
        TestContext.Out.WriteLine($"μ_g = ({mu[0]:F3}, {mu[1]:F3}), |a| = ({a[0]:F3}, {a[1]:F3})");
        for (int k = 0; k < 2; k++)
        {
            Assert.That(Math.Abs(mu[k] - mean[k]), Is.LessThan(0.1 * Math.Abs(mu0[k] - mean[k])), $"mean {k}");
            Assert.That(Math.Abs(a[k] - std[k]), Is.LessThan(0.1 * Math.Abs(a0[k] - std[k])), $"scale {k}");
        }
    }

    [Test]
    public void AShortRunOnTheEightGaussiansTeacherLowersSlicedWasserstein()
    {
        var toy = GaussianMixtureToy.EightGaussians();
        var data = toy.Sample(4000, new Generator(77));
        using var d = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors")),
            new DiffInstructOptions { Steps = 120, BatchSize = 128, GeneratorLr = 1e-4f, AuxiliaryLr = 1e-4f, EmaHalfLifeSamples = 5_000 });
        double Sw()
        {
            using var scope = Tensor.Scope();
            return ToyMetrics.SlicedWasserstein(d.SampleEma(4000, 5).ToArray(), data, seed: 9);
        }
        double before = Sw();
        d.Run();
        double after = Sw();
        TestContext.Out.WriteLine($"one-step SW {before:F4} → {after:F4}");
        Assert.That(after, Is.LessThan(before / 2), $"sliced Wasserstein {before} → {after}");
    }

    [Test]
    public void AConvolutionalStudentStoresItsWholeStateOihwAndResumesBitForBit()
    {
        using var dir = new TempDir();
        string teacher = dir.File("unet.safetensors");
        using (var net = new UNet(TinyModels.TinyUNet, new Generator(2))) ModelFactory.Save(teacher, net);
        var options = Short with { Steps = 4, BatchSize = 3, PreviewSamples = 4 };
        var full = new List<(double, double)>();
        using (var a = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(teacher), options))
            a.Run(progress: p => full.Add((p["aux_loss"], p["score_gap"])));

        string run = dir.File("run");
        var curve = new List<(double, double)>();
        using (var b = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(teacher), options with { Steps = 2 }, outDir: run))
            b.Run(progress: p => curve.Add((p["aux_loss"], p["score_gap"])));
        Assert.That(File.Exists(Path.Combine(run, "samples-0000002.png")), "an image grid preview");
        string checkpoint = Path.Combine(run, DiffInstructDistiller.CheckpointFile);
        var header = SafeTensors.ReadHeader(checkpoint);
        int convIn;
        using (var probe = new UNet(TinyModels.TinyUNet)) convIn = probe.NamedParameters().Select(p => p.Name).ToList().IndexOf("conv_in.weight");
        long[] oihw = [8, 1, 3, 3];
        foreach (var name in new[] { "conv_in.weight", "train.generator.conv_in.weight", "train.aux.conv_in.weight",
                     $"train.adam_generator.{convIn}.exp_avg", $"train.adam_aux.{convIn}.exp_avg_sq" })
            Assert.That(header.Tensors.Single(t => t.Name == name).Shape, Is.EqualTo(oihw), name);

        using var c = DiffInstructDistiller.Resume(checkpoint, steps: 4);
        c.Run(progress: p => curve.Add((p["aux_loss"], p["score_gap"])));
        Assert.That(curve, Is.EqualTo(full), "weights and Adam moments of both networks come back in memory layout");
    }

    [Test]
    public void TheStudentCheckpointSamplesInOneStepExactlyLikeTheGeneratorsEma()
    {
        using var dir = new TempDir();
        string teacher = SaveTeacher(dir);
        string run = dir.File("run");
        using var d = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(teacher), Short with { Steps = 6, LogEvery = 4, CheckpointEvery = 3, PreviewSamples = 50 }, sigmaInit: 2.5, outDir: run);
        d.Run();
        Assert.That(Directory.GetFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Is.EqualTo(new[] { "log.jsonl", "samples-0000003.png", "samples-0000006.png", "student.safetensors" }));
        string checkpoint = Path.Combine(run, DiffInstructDistiller.CheckpointFile);

        using var loaded = ModelFactory.Load(checkpoint);
        Assert.That(loaded.Kind, Is.EqualTo("mlp"));
        Assert.That(Weights(loaded.Model.StateDict()), Is.EqualTo(Weights(d.EmaWeights)));
        var meta = loaded.Metadata;
        Assert.That(meta[SamplerOptions.KindKey], Is.EqualTo("euler"));
        Assert.That(meta[SamplerOptions.StepsKey], Is.EqualTo("1"));
        Assert.That(meta[SamplerOptions.SigmaMaxKey], Is.EqualTo("2.5"));
        Assert.That(meta["train.data"], Is.EqualTo("toy:8gaussians"), "evaluates against the teacher's data");
        Assert.That(meta[CheckpointKeys.TeacherHash], Is.EqualTo(FrozenTeacher.FileSha256(teacher)));
        Assert.That(DiffInstructOptions.FromJson(meta["train.options"]), Is.EqualTo(d.Options));

        var options = new SamplerOptions(SamplerKind.Euler, 1, Seed: 42, SigmaMax: 2.5);
        using var scope = Tensor.Scope();
        var sampled = DiffusionSampler.Generate(loaded.Net, Edm.FromMetadata(meta), 64, options);
        Assert.That(sampled.Nfe, Is.EqualTo(1));
        Assert.That(sampled.Samples.ToArray(), Is.EqualTo(d.SampleEma(64, 42).ToArray()), "bit for bit");

        var lines = File.ReadAllLines(Path.Combine(run, DiffInstructDistiller.LogFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 4, 6 }));
        foreach (var l in lines)
        {
            Assert.That(l.GetProperty("aux_loss").GetDouble(), Is.GreaterThan(0));
            Assert.That(l.GetProperty("score_gap").GetDouble(), Is.GreaterThan(0));
            Assert.That(l.GetProperty("lr_generator").GetDouble(), Is.EqualTo(1e-3).Within(1e-9));
        }
    }

    [Test]
    public void ResumeRefusesAnotherTeacherAndFinishedRuns()
    {
        using var dir = new TempDir();
        string teacher = SaveTeacher(dir), other = SaveTeacher(dir, seed: 2, name: "other.safetensors");
        string run = dir.File("run");
        using (var d = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(teacher), Short with { Steps = 2 }, outDir: run)) d.Run();
        string checkpoint = Path.Combine(run, DiffInstructDistiller.CheckpointFile);
        using var wrong = FrozenTeacher.Load(other);
        var e = Assert.Throws<ArgumentException>(() => DiffInstructDistiller.Resume(checkpoint, wrong));
        Assert.That(e!.Message, Does.Contain("is not the one this run distils"));
        Assert.Throws<ArgumentException>(() => DiffInstructDistiller.Resume(checkpoint, steps: 1));
        File.Delete(teacher);
        Assert.That(Assert.Throws<ArgumentException>(() => DiffInstructDistiller.Resume(checkpoint))!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void AResumedRunMayChangeItsLearningRatesButNotItsRecipe()
    {
        using var dir = new TempDir();
        string teacher = SaveTeacher(dir);
        string run = dir.File("run");
        using (var d = DiffInstructDistiller.FromTeacher(FrozenTeacher.Load(teacher), Short with { Steps = 3, LogEvery = 1 }, outDir: run)) d.Run();
        string checkpoint = Path.Combine(run, DiffInstructDistiller.CheckpointFile);
        string log = Path.Combine(run, DiffInstructDistiller.LogFile);
        Assert.That(Assert.Throws<ArgumentException>(() => DiffInstructDistiller.Resume(checkpoint, steps: 6, changes: o => o with { BatchSize = o.BatchSize * 2 }))!.Message,
            Does.Contain("only the step count"));
        Assert.Throws<ArgumentException>(() => DiffInstructDistiller.Resume(checkpoint, steps: 6, changes: o => o with { GeneratorLr = -1 }));

        float[] start, unchanged;
        using (var a = DiffInstructDistiller.Resume(checkpoint, steps: 6, outDir: dir.File("same")))
        {
            start = Weights(a.Generator.Module.StateDict());
            a.Run();
            unchanged = Weights(a.Generator.Module.StateDict());
        }
        using (var c = DiffInstructDistiller.Resume(checkpoint, steps: 6, changes: o => o with { GeneratorLr = 1e-6f, AuxiliaryLr = 2.5e-4f }))
        {
            Assert.That((c.Options.GeneratorLr, c.Options.AuxiliaryLr, c.Options.BatchSize), Is.EqualTo((1e-6f, 2.5e-4f, Short.BatchSize)));
            c.Run();
            // At 1e-6 instead of 1e-3 the generator barely moves: the new rate took effect.
            double Moved(float[] w) => w.Zip(start, (x, y) => (double)Math.Abs(x - y)).Max();
            Assert.That(Moved(Weights(c.Generator.Module.StateDict())), Is.LessThan(Moved(unchanged) / 100));
        }
        var lines = File.ReadAllLines(log).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(lines.Select(l => l.GetProperty("lr_auxiliary").GetDouble()), Is.EqualTo(new[] { 1e-3, 1e-3, 1e-3, 2.5e-4, 2.5e-4, 2.5e-4 }),
            "the log shows the rates of every line");
        using var again = DiffInstructDistiller.Resume(checkpoint);
        Assert.That(again.Options.AuxiliaryLr, Is.EqualTo(2.5e-4f), "the new rates are saved with the run");
    }
}
