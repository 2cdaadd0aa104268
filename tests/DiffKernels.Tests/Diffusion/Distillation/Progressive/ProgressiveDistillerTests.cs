using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Progressive;

/// <summary>Progressive distillation: the two-teacher-step target, x0 thresholding, the teacher swap and the per-round students.</summary>
public class ProgressiveDistillerTests
{
    private static readonly double[] Mu = [3.0, -0.5];
    private static readonly double[] Std = [0.5, 2.0];

    private static Tensor T(float[] v, params int[] shape) => Tensor.FromSpan(v, shape.Length == 0 ? [v.Length] : shape);

    /// <summary>The teacher's two Euler steps σa → σb → σc in double with the exact Gaussian denoiser, x0 estimates optionally clipped to [−1, 1].</summary>
    private static double TwoSteps(DiagonalGaussianDenoiser g, double xa, double a, double b, double c, int d, bool clip)
    {
        double Clip(double v) => clip ? Math.Clamp(v, -1, 1) : v;
        double d1 = Clip(g.D(xa, a, d));
        double xb = d1 + b / a * (xa - d1);
        double d2 = Clip(g.D(xb, b, d));
        return d2 + c / b * (xb - d2);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OneStudentEulerStepWithTheTargetLandsOnTheLinearTeachersTwoStepPoint(bool clip)
    {
        using var scope = Tensor.Scope();
        var edm = new Edm();
        var gaussian = new DiagonalGaussianDenoiser(edm, Mu, Std);
        using var teacher = new FrozenTeacher(gaussian, edm);
        float[] sa = [80f, 2f, 1f, 0.3f], sb = [10f, 0.5f, 0.3f, 0.1f], sc = [2f, 0.1f, 0f, 0.02f];
        int n = sa.Length;
        var xa = new Generator(5).Normal([n, 2]).ToArray();
        for (int i = 0; i < n; i++) for (int d = 0; d < 2; d++) xa[i * 2 + d] = (float)(Mu[d] + sa[i] * xa[i * 2 + d]);
        var (target, weight) = ProgressiveTarget.Compute(teacher, T(xa, n, 2), T(sa), T(sb), T(sc), threshold: clip ? 0f : null);
        var landed = F.EulerStep(T(xa, n, 2), target, T(sa), T(sc)).ToArray();
        for (int i = 0; i < n; i++)
        {
            Assert.That(weight.ToArray()[i], Is.EqualTo(Math.Max(1, 1 / ((double)sa[i] * sa[i]))).Within(1e-6), $"weight {i}");
            for (int d = 0; d < 2; d++)
            {
                double expected = TwoSteps(gaussian, xa[i * 2 + d], sa[i], sb[i], sc[i], d, clip);
                Assert.That(landed[i * 2 + d], Is.EqualTo(expected).Within(2e-4 * Math.Max(1, Math.Abs(expected))), $"sample {i}, coordinate {d}");
            }
        }
        Assert.That(target.ToArray()[2 * 2], Is.EqualTo(TwoSteps(gaussian, xa[4], 1, 0.3, 0, 0, clip)).Within(1e-4), "σc = 0: the target is the teacher's x_c");
    }

    [Test]
    public void TheFApiRefusesGradientsAndQuantilesOutsideTheUnitInterval()
    {
        using var scope = Tensor.Scope();
        var x = T([0.5f, -3f, 2f, 0.1f], 2, 2);
        x.RequiresGrad = true;
        var s = T([1f, 2f]);
        Assert.Throws<InvalidOperationException>(() => F.PdTarget(x, x, s, T([0.5f, 0f])));
        Assert.Throws<InvalidOperationException>(() => F.ThresholdX0(x));
        Assert.Throws<ArgumentException>(() => F.PdTarget(T([1f, 2f, 3f, 4f], 2, 2), T([1f, 2f, 3f, 4f], 2, 2), T([1f, 2f, 3f]), T([0f, 0f, 0f])));
        using (Tensor.NoGrad())
        {
            Assert.That(F.ThresholdX0(x).ToArray(), Is.EqualTo(new[] { 0.5f, -1f, 1f, 0.1f }), "static: clipped to [−1, 1]");
            Assert.That(F.ThresholdX0(x, 1f).ToArray(), Is.EqualTo(new[] { 0.5f / 3, -1f, 1f, 0.05f }).Within(1e-6), "dynamic: each sample divided by its largest |x0| (at least 1)");
            var d = T([0.25f, 1f, -1f, 0.5f], 2, 2);
            Assert.That(F.EulerStep(x, d, T([2f, 2f]), T([0.5f, 0.5f])).ToArray(), Is.EqualTo(F.EulerStep(x, d, 0.25f).ToArray()).Within(1e-6),
                "per-sample levels step like a shared level");
            Assert.That(F.EulerStep(x, d, T([2f, 1f]), T([1f, 0f])).ToArray(), Is.EqualTo(new[] { 0.375f, -1f, -1f, 0.5f }).Within(1e-6), "σb = 0 lands on D");
            Assert.Throws<ArgumentOutOfRangeException>(() => F.ThresholdX0(x, 1.5f));
            Assert.Throws<ArgumentOutOfRangeException>(() => F.ThresholdX0(x, -0.1f));
        }
    }

    [TestCase("clip")]
    [TestCase("dynamic")]
    public void ThresholdedSamplersKeepEveryX0InTheDataRange(string threshold)
    {
        using var scope = Tensor.Scope();
        var edm = new Edm();
        var gaussian = new DiagonalGaussianDenoiser(edm, Mu, Std);
        var options = new SamplerOptions(SamplerKind.Euler, Steps: 6, BatchSize: 256);
        var plain = DiffusionSampler.Generate(gaussian, edm, 256, options).Samples.ToArray();
        var reflected = DiffusionSampler.Generate(gaussian, edm, 256, options with { Threshold = X0Threshold.Parse(threshold) }).Samples.ToArray();
        Assert.That(plain.Max(Math.Abs), Is.GreaterThan(2f), "the data lie outside [−1, 1]");
        Assert.That(reflected.All(v => Math.Abs(v) <= 1f), "the last step returns a thresholded x0");
    }

    [Test]
    public void SamplerDefaultsRecordExplicitLevelsAndThresholds()
    {
        var defaults = new SamplerDefaults(SamplerKind.Euler, 3, 80, [80, 2.5, 0.125], 0.995f);
        var metadata = new Dictionary<string, string>();
        defaults.ApplyTo(metadata);
        Assert.That(metadata[SamplerOptions.SigmasKey], Is.EqualTo("80,2.5,0.125"));
        Assert.That(metadata[SamplerOptions.ThresholdKey], Is.EqualTo("dynamic:0.995"));
        var read = SamplerDefaults.Of(metadata);
        Assert.That(read.Sigmas, Is.EqualTo(new[] { 80, 2.5, 0.125 }));
        Assert.That(read.Threshold, Is.EqualTo(0.995f));
        Assert.That(read.ApplyTo(new SamplerOptions()).Grid(), Is.EqualTo(new[] { 80, 2.5, 0.125, 0 }));
        Assert.That(() => (defaults with { Steps = 4 }).Validate(), Throws.ArgumentException.With.Message.Contains("3 explicit levels for 4 steps"));
        Assert.That(() => (defaults with { Sigmas = [80, 90, 1] }).Validate(), Throws.ArgumentException.With.Message.Contains("decreasing"));
        Assert.That(X0Threshold.Parse("clip"), Is.EqualTo(0f));
        Assert.That(X0Threshold.Parse("none"), Is.Null);
        Assert.That(X0Threshold.Parse("dynamic:0.9"), Is.EqualTo(0.9f));
        Assert.That(X0Threshold.Format(0f), Is.EqualTo("clip"));
        Assert.That(() => X0Threshold.Parse("dynamic:2"), Throws.ArgumentException.With.Message.Contains("'dynamic:2'"));
    }

    private static ProgressiveDistiller Distiller(string? outDir, int steps = 4) =>
        ProgressiveDistiller.FromTeacher(new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm()),
            new ToyDataSource(GaussianMixtureToy.EightGaussians()),
            new ProgressiveOptions { TeacherSteps = 4, FinalSteps = 1, StepsPerRound = 2, Steps = steps, BatchSize = 16, Lr = 1e-3f, LogEvery = 1, Seed = 3 }, outDir);

    private static Dictionary<string, float[]> Prefixed(string path, string prefix) =>
        SafeTensors.Load(path).Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value.ToArray());

    [Test]
    public void AfterARoundTheTeacherIsTheStudentAndAdamStartsAfresh()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        using (var pd = Distiller(dir.Path)) pd.Run();
        Assert.That(dir.Entries(), Is.SupersetOf(new[] { "student-k1.safetensors", "student-k2.safetensors", "student.safetensors" }));
        string k2 = dir.File("student-k2.safetensors"), k1 = dir.File("student-k1.safetensors");
        var original = Prefixed(k2, "train.pd_teacher.");
        var roundOneStudent = Prefixed(k2, "train.generator.");
        var roundTwoTeacher = Prefixed(k1, "train.pd_teacher.");
        Assert.That(roundTwoTeacher.Keys, Is.EquivalentTo(roundOneStudent.Keys));
        foreach (var (name, values) in roundOneStudent) Assert.That(roundTwoTeacher[name], Is.EqualTo(values), name);
        Assert.That(original.Any(kv => !kv.Value.SequenceEqual(roundOneStudent[kv.Key])), "the first round moved the student off the teacher");
        Assert.That(SafeTensors.Load(k2).Tensors["train.adam_student.0.step"].Item(), Is.EqualTo(2f));
        Assert.That(SafeTensors.Load(k1).Tensors["train.adam_student.0.step"].Item(), Is.EqualTo(2f), "the second round's Adam counts only its own updates");
        Assert.That(File.ReadAllBytes(k1), Is.EqualTo(File.ReadAllBytes(dir.File("student.safetensors"))), "the last round's student is the run's end");
    }

    [Test]
    public void EachRoundsStudentSamplesOnItsOwnLevelsAndExportsToARelease()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        float[] fromRun;
        double[] levels;
        using (var pd = Distiller(dir.Path, steps: 2))
        {
            pd.Run();
            levels = pd.Schedule.StudentLevels(0);
            fromRun = pd.SampleEma(64, 9).ToArray();
        }
        Assert.That(levels, Is.EqualTo(new[] { 80, SigmaGrid.Karras(4)[2] }));
        string k2 = dir.File("student-k2.safetensors"), release = dir.File("release.safetensors");
        ReleaseCheckpoint.Export(k2, release);
        Assert.That(CheckpointKind.Of(release), Has.Property("Role").EqualTo(ModelRole.Student).And.Property("IsTraining").False);
        using var training = PretrainedModel.Load(k2);
        using var released = PretrainedModel.Load(release);
        foreach (var model in new[] { training, released })
        {
            Assert.That(model.DefaultOptions.Kind, Is.EqualTo(SamplerKind.Euler));
            Assert.That(model.DefaultOptions.Sigmas, Is.EqualTo(levels));
            Assert.That(model.DefaultNfe, Is.EqualTo(2));
            Assert.That(model.Sample(64, 9).Samples.ToArray(), Is.EqualTo(fromRun), "samples as the run drew them");
        }
    }

    [Test]
    public void TheOneStepStudentIsAOneStepGeneratorAtSigmaMax()
    {
        using var dir = new TempDir();
        using (var pd = Distiller(dir.Path)) pd.Run();
        var loaded = ModelFactory.Load(dir.File("student-k1.safetensors"));
        try
        {
            var generator = GeneratorCheckpoint.Wrap(loaded.Model, loaded.Metadata);
            Assert.That(generator, Is.InstanceOf<OneStepGenerator>().With.Property("SigmaInit").EqualTo(80.0));
        }
        finally
        {
            loaded.Dispose();
        }
    }

    [Test]
    public void TeachersThatAreNotNetworksOrDataOfAnotherShapeAreRefused()
    {
        var edm = new Edm();
        var student = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        var options = new ProgressiveOptions { TeacherSteps = 4, StepsPerRound = 2, Steps = 4 };
        using var gaussian = new FrozenTeacher(new DiagonalGaussianDenoiser(edm, Mu, Std), edm);
        Assert.That(() => new ProgressiveDistiller(gaussian, student, new ToyDataSource(GaussianMixtureToy.EightGaussians()), options),
            Throws.ArgumentException.With.Message.Contains("not a module"));
        using var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), edm);
        Assert.That(() => new ProgressiveDistiller(teacher, new Mlp(new MlpConfig(Hidden: 8), new Generator(1)), new ToyDataSource(GaussianMixtureToy.EightGaussians()), options),
            Throws.ArgumentException.With.Message.Contains("architecture"));
        Assert.That(() => new ProgressiveDistiller(teacher, student, new ToyDataSource(GaussianMixtureToy.EightGaussians()), options with { FinalSteps = 3 }),
            Throws.ArgumentException.With.Message.Contains("cannot be reached"));
        student.Dispose();
    }
}
