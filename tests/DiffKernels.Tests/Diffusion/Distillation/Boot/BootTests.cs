using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Boot;

/// <summary>BOOT: the bootstrapped target, the boundary, the guided target, the exact Gaussian trajectory, one-step sampling of a saved student.</summary>
public class BootTests
{
    private const double S = 0.5;
    private static readonly double[] Mu = [0.3, -0.2];

    private static Tensor T(float[] v, params int[] shape) => Tensor.FromSpan(v, shape);

    [Test]
    public void TheTargetIsAnEulerStepOfTheSignalOdeWithTheClampedInverseSquareWeight()
    {
        using var scope = Tensor.Scope();
        // Pair 1: σt = 2 → σs = 1, δ' = 0.5. Pair 2: σt = 1 → σs = 0.999, δ' = 0.001 clamped to 0.01.
        var (target, weight) = F.BootTarget(T([0.5f, -1f, 0.2f, 0.4f], 2, 2), T([1f, 1f, -0.8f, 1.4f], 2, 2), T([2f, 1f], 2), T([1f, 0.999f], 2), 0.01f);
        Assert.That(target.ToArray(), Is.EqualTo(new[] { 0.75f, 0f, 0.19f, 0.41f }).Within(1e-6));
        Assert.That(weight.ToArray(), Is.EqualTo(new[] { 4f, 10000f }).Within(1e-2));
        var y = T([0.5f, 0.5f], 1, 2);
        y.RequiresGrad = true;
        Assert.Throws<InvalidOperationException>(() => F.BootTarget(y, T([0f, 0f], 1, 2), T([2f], 1), T([1f], 1), 0.01f), "the target is a stop-gradient value");
    }

    [Test]
    public void TheSignalIsZeroAtSigmaMaxAndAStudentCopiedFromItsTeacherStartsFromTheTeachersPredictionThere()
    {
        using var scope = Tensor.Scope();
        using var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(2)), new Edm());
        var options = new BootOptions { GridPoints = 8 };
        using var run = BootDistiller.FromTeacher(teacher, options);
        var student = run.Student;
        var eps = new Generator(3).Normal([64, 2]);
        double sMax = options.SigmaMax, s1 = run.Levels[1];
        var top = Tensor.Full([64], (float)sMax);
        Assert.That(student.Signal(eps, sMax, null).ToArray(), Is.All.EqualTo(0f), "y(σmax) = 0 for any weights");
        var dMax = teacher.Denoise(F.MulScalar(eps, (float)sMax), top).ToArray();
        Assert.That(student.Estimate(eps, top, null).ToArray(), Is.EqualTo(dMax).Within(1e-5), "h(ε, σmax) = D_T(σmax·ε; σmax)");
        var h1 = student.Estimate(eps, Tensor.Full([64], (float)s1), null).ToArray();
        var expected = h1.Select(h => (float)((1 - s1 / sMax) * h)).ToArray();
        Assert.That(student.Signal(eps, s1, null).ToArray(), Is.EqualTo(expected).Within(1e-6), "y(σ1) = (1 − σ1/σmax)·h(ε, σ1)");
        var x = student.Trajectory(eps, s1, null).ToArray();
        var e = eps.ToArray();
        for (int i = 0; i < x.Length; i++) Assert.That(x[i], Is.EqualTo(expected[i] + s1 * e[i]).Within(1e-4), "x(σ) = y(σ) + σ·ε");
    }

    [Test]
    public void TheGuidedTargetIsDwWithPerSampleSigmas()
    {
        using var scope = Tensor.Scope();
        var edm = new Edm();
        double[] uncond = [0.1, -0.1];
        double[][] means = [[1, 0], [0, -1]];
        var net = new GaussianDenoiserNet(edm, S, uncond, means);
        using var teacher = new FrozenTeacher(net, edm);
        float[] xs = [0.4f, -0.3f, 2f, 1f, -1f, 0.5f];
        float[] sigma = [0.3f, 1.5f, 20f];
        float[] labels = [0, 1, 1];
        const double w = 2.5;
        var d = teacher.Denoise(T(xs, 3, 2), T(sigma, 3), T(labels, 3), w).ToArray();
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 2; c++)
            {
                double du = net.D(xs[2 * i + c], sigma[i], uncond[c]), dc = net.D(xs[2 * i + c], sigma[i], means[(int)labels[i]][c]);
                Assert.That(d[2 * i + c], Is.EqualTo(du + w * (dc - du)).Within(1e-4), $"sample {i}, coordinate {c}");
            }
        var single = edm.GuidedDenoise(net, T(xs, 3, 2), 1.5, T(labels, 3), w).ToArray();
        var perSample = teacher.Denoise(T(xs, 3, 2), Tensor.Full([3], 1.5f), T(labels, 3), w).ToArray();
        Assert.That(perSample, Is.EqualTo(single).Within(1e-6), "per-sample σ agrees with one shared σ");
    }

    [Test]
    public void AStudentOfAnExactGaussianTeacherFollowsTheClosedFormTrajectory()
    {
        // With Gaussian data N(μ, S²) the denoiser is linear and the ODE from σmax·ε is solved in closed form:
        // x(σ) = μ + √((S² + σ²)/(S² + σmax²))·(σmax·ε − μ), so y(σ) = x(σ) − σ·ε.
        using var scope = Tensor.Scope();
        var edm = new Edm();
        using var teacher = new FrozenTeacher(new GaussianDenoiserNet(edm, S, Mu), edm);
        var options = new BootOptions { Steps = 1500, BatchSize = 128, Lr = 3e-3f, GridPoints = 32, EmaHalfLifeSamples = null, Seed = 1 };
        var student = new BootStudent(new Mlp(new MlpConfig(Hidden: 64), new Generator(1)), edm, options.SigmaMin, options.SigmaMax);
        using var run = new BootDistiller(teacher, student, options);
        run.Run();
        const int n = 512;
        var eps = new Generator(9).Normal([n, 2]);
        var e = eps.ToArray();
        var worst = 0.0;
        foreach (double sigma in run.Levels)
        {
            float[] y;
            using (Tensor.NoGrad()) y = student.Signal(eps, sigma, null).ToArray();
            double scale = Math.Sqrt((S * S + sigma * sigma) / (S * S + options.SigmaMax * options.SigmaMax)), gap = 0;
            for (int i = 0; i < y.Length; i++)
            {
                double mu = Mu[i % 2], exact = mu + scale * (options.SigmaMax * e[i] - mu) - sigma * e[i];
                gap += (y[i] - exact) * (y[i] - exact);
            }
            gap /= y.Length;
            worst = Math.Max(worst, gap);
            TestContext.Out.WriteLine($"σ {sigma:G4}: mean squared gap {gap:G3}");
        }
        // Stated tolerance: a mean squared gap below 0.02 (8% of the data variance S² = 0.25) at every σ. The student learns the
        // Euler-discretised trajectory of its 32-point grid, which alone is 0.0019 off the closed form at σmin; this run ends near 0.009.
        Assert.That(worst, Is.LessThan(0.02));
    }

    [Test]
    public void ASavedStudentSamplesInOneEvaluationLikeTheRunAndRecordsWhatItIs()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(2)), new Edm());
        float[] expected;
        string path;
        using (var run = BootDistiller.FromTeacher(teacher, new BootOptions { Steps = 3, BatchSize = 16, Lr = 1e-3f, GridPoints = 4, SigmaMin = 0.01, SigmaMax = 40 }, dir.File("run")))
        {
            run.Run();
            expected = run.SampleEma(20, 7).ToArray();
            path = run.CheckpointPath!;
        }
        Assert.That(CheckpointKind.Of(path).Role, Is.EqualTo(ModelRole.Student));
        using var model = PretrainedModel.Load(path);
        Assert.That(model.IsGenerator, Is.True);
        Assert.That(model.Metadata[BootStudent.ParameterisationKey], Is.EqualTo(BootStudent.Parameterisation));
        Assert.That(model.Metadata[BootStudent.SigmaMinKey], Is.EqualTo("0.01"));
        Assert.That(model.Boot, Is.Not.Null);
        var eps = new Generator(8).Normal([5, 2]);
        Assert.That(model.Boot!.Trajectory(eps, 40, null).ToArray(), Is.EqualTo(F.MulScalar(eps, 40f).ToArray()).Within(1e-5), "x(σmax) = σmax·ε");
        var sample = model.Sample(20, 7);
        Assert.That(sample.Nfe, Is.EqualTo(1));
        Assert.That(sample.Samples.ToArray(), Is.EqualTo(expected), "dk sample draws what the run's EMA draws, bit for bit");
    }

    [Test]
    public void RefusesAGridOfOnePointAndARangeOutsideTheTeachers()
    {
        var edm = new Edm();
        using var teacher = new FrozenTeacher(new GaussianDenoiserNet(edm, S, Mu), edm);
        Assert.That(() => new BootOptions { GridPoints = 1 }.Validate(), Throws.ArgumentException.With.Message.Contains("need at least 2"));
        Assert.That(() => BootGrid.Levels(BootGridKind.LogSigma, 1, 0.002, 80), Throws.InstanceOf<ArgumentOutOfRangeException>());
        using var student = new Mlp(new MlpConfig(Hidden: 8), new Generator(1));
        Assert.That(() => new BootDistiller(teacher, new BootStudent(student, edm, 0.002, 120), new BootOptions { SigmaMax = 120 }),
            Throws.ArgumentException.With.Message.Contains("outside the teacher's [0.002, 80]"));
        Assert.That(() => new BootDistiller(teacher, new BootStudent(student, edm, 0.002, 80), new BootOptions { Guidance = 2 }),
            Throws.ArgumentException.With.Message.Contains("needs a class-conditional teacher"));
    }

    [Test]
    public void TheSoftBoundaryStartsAtZeroForAStudentCopiedFromItsTeacherAndIsLogged()
    {
        using var dir = new TempDir();
        var teacher = new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(2)), new Edm());
        using (var run = BootDistiller.FromTeacher(teacher, new BootOptions { Steps = 2, BatchSize = 16, Lr = 1e-3f, GridPoints = 4, LogEvery = 1, Boundary = BootBoundary.Soft }, dir.File("run")))
            run.Run();
        var lines = File.ReadAllLines(Path.Combine(dir.File("run"), "log.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        // h(ε, σmax) = D_T(σmax·ε; σmax) before the first update, so the boundary term is zero up to float rounding; it grows once the student moves.
        Assert.That(lines[0].GetProperty("boundary").GetDouble(), Is.LessThan(1e-9));
        Assert.That(lines[1].GetProperty("boundary").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void PairsAreDrawnUniformlyOrSpreadEvenlyOverTheGrid()
    {
        float[] u = [0.5f, 0.99f, 0f, 0.26f];
        Assert.That(BootDistiller.Pairs(u, 4, BootPairSampling.Uniform), Is.EqualTo(new[] { 2, 3, 0, 1 }));
        // Stratified: positions (i + 0.5)/4 = 0.125, 0.375, 0.625, 0.875 → every pair once.
        Assert.That(BootDistiller.Pairs(u, 4, BootPairSampling.Stratified), Is.EqualTo(new[] { 0, 1, 2, 3 }));
        Assert.That(BootDistiller.Pairs(u, 2, BootPairSampling.Stratified), Is.EqualTo(new[] { 0, 0, 1, 1 }));
    }

    [Test]
    public void BothGridsRunFromSigmaMaxDownToSigmaMin()
    {
        foreach (var kind in new[] { BootGridKind.Karras, BootGridKind.LogSigma })
        {
            var levels = BootGrid.Levels(kind, 33, 0.002, 80);
            Assert.That(levels[0], Is.EqualTo(80));
            Assert.That(levels[^1], Is.EqualTo(0.002));
            for (int i = 1; i < levels.Length; i++) Assert.That(levels[i], Is.LessThan(levels[i - 1]), $"{kind} level {i}");
        }
        var log = BootGrid.Levels(BootGridKind.LogSigma, 3, 0.01, 100);
        Assert.That(log[1], Is.EqualTo(1).Within(1e-12), "log-σ spacing: the middle of [0.01, 100] is 1");
    }
}
