using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Ddil;

/// <summary>
/// DDIL's three sources on Gaussian data N(μ, s²) per coordinate, where teacher and student are the exact denoiser
/// D(x; σ) = μ + a(σ)(x − μ), a = s²/(s² + σ²), so every input is Gaussian with moments known in closed form: forward
/// diffusion gives N(μ, s² + σ_k²); an Euler step σa → σb maps x − μ to (s² + σaσb)/(s² + σa²)·(x − μ); a re-noised
/// estimate D(x; σ_j) + σ_j+1·n has mean μ + a_j(m − μ) and variance a_j²v + σ_j+1² (fresh noise adds, never correlates).
/// Each source's sample moments must match these at every student step.
/// </summary>
public class DdilInputsTests
{
    internal static readonly double[] Mu = [1.0, -2.0];
    internal const double S = 0.5;
    internal static readonly double[] Levels = [80, 4, 0.8, 0.1];
    private const int N = 6000;

    /// <summary>A base whose teacher and student are both the exact Gaussian denoiser (or both <paramref name="student"/>).</summary>
    internal sealed class GaussianBase(bool renoises, IReadOnlyList<double>? levels = null, INoiseNet? student = null) : IDdilBase
    {
        private readonly INoiseNet _student = student ?? new GaussianDenoiserNet(new Edm(), S, Mu);

        public FrozenTeacher Expert { get; } = new(student ?? new GaussianDenoiserNet(new Edm(), S, Mu), new Edm());

        public IReadOnlyList<double> StudentLevels { get; set; } = levels ?? Levels;

        public bool StudentRenoises => renoises;

        public Tensor StudentDenoise(Tensor x, double sigma, Tensor? labels)
        {
            using var noGrad = Tensor.NoGrad();
            return new Edm().Denoise(_student, x, sigma, labels);
        }
    }

    internal static DdilOptions Only(double data, double teacher, double student) => new()
    {
        DataWeight = data, TeacherWeight = teacher, StudentWeight = student, WarmupFraction = 0, RampEndFraction = 0, SchedulePeriod = 100, TeacherSubsteps = 3,
    };

    private static double A(double sigma) => S * S / (S * S + sigma * sigma);

    private static (double[] Mean, double Var) Expected(string source, int k)
    {
        // Track m = E[x] per coordinate (x − μ's mean is (m − μ)) and the common variance v.
        if (source == "data") return (Mu, S * S + Levels[k] * Levels[k]);
        var m = new double[] { 0, 0 };
        double v = Levels[0] * Levels[0];
        for (int j = 0; j < k; j++)
        {
            if (source == "teacher")
            {
                var sub = DdilRollouts.SubstepLevels(Levels[j], Levels[j + 1], 3);
                for (int t = 0; t < 3; t++)
                {
                    double f = (S * S + sub[t] * sub[t + 1]) / (S * S + sub[t] * sub[t]);
                    for (int d = 0; d < 2; d++) m[d] = Mu[d] + f * (m[d] - Mu[d]);
                    v *= f * f;
                }
            }
            else
            {
                double a = A(Levels[j]);
                for (int d = 0; d < 2; d++) m[d] = Mu[d] + a * (m[d] - Mu[d]);
                v = a * a * v + Levels[j + 1] * Levels[j + 1];
            }
        }
        return (m, v);
    }

    private static void AssertMoments(float[] x, double[] mean, double variance, string what)
    {
        int n = x.Length / 2;
        for (int d = 0; d < 2; d++)
        {
            var c = Enumerable.Range(0, n).Select(i => (double)x[2 * i + d]).ToArray();
            double m = c.Average(), v = c.Select(t => (t - m) * (t - m)).Sum() / (n - 1);
            Assert.That(m, Is.EqualTo(mean[d]).Within(5 * Math.Sqrt(variance / n)), $"{what}: mean of coordinate {d}");
            Assert.That(v, Is.EqualTo(variance).Within(5 * variance * Math.Sqrt(2.0 / n)), $"{what}: variance of coordinate {d}");
        }
    }

    [TestCase("data")]
    [TestCase("teacher")]
    [TestCase("student")]
    public void EachSourceGivesInputsAtTheStudentsLevelWithTheirExactMoments(string source)
    {
        var options = source switch { "data" => Only(1, 0, 0), "teacher" => Only(0, 1, 0), _ => Only(0, 0, 1) } with { BufferSize = 4000 };
        var inputs = new DdilInputs(options, new GaussianBase(renoises: true), [2], 0, seed: 1);
        var rng = new DiffKernels.Random.Generator(2);
        for (int k = 0; k < Levels.Length; k++)
        {
            using var scope = Tensor.Scope();
            var x0 = Tensor.FromSpan(Enumerable.Range(0, N).SelectMany(_ => Mu.Select(m => (float)m)).ToArray(), [N, 2]);
            x0 = DiffKernels.Ops.F.Add(x0, DiffKernels.Ops.F.MulScalar(rng.Normal([N, 2]), (float)S));
            var batch = inputs.Draw(k, Enumerable.Repeat(k, N).ToArray(), x0, null);
            Assert.That((batch.DataCount, batch.TeacherCount, batch.StudentCount),
                Is.EqualTo(source switch { "data" => (N, 0, 0), "teacher" => (0, N, 0), _ => (0, 0, N) }));
            Assert.That(batch.Sigma.ToArray(), Is.All.EqualTo((float)Levels[k]), $"σ_{k}");
            var (mean, variance) = Expected(source, k);
            AssertMoments(batch.X.ToArray(), mean, variance, $"{source} at step {k}");
        }
    }

    [Test]
    public void AStudentWithTheEulerWalkReachesItsLaterStepsThroughItsOwnEulerStates()
    {
        // With the Euler walk, the estimate at σ_j comes from x_j = μ + Π f·(x_0 − μ); re-noised to σ_j+1 it has variance a_j²v_j + σ_j+1².
        var inputs = new DdilInputs(Only(0, 0, 1) with { BufferSize = 4000 }, new GaussianBase(renoises: false), [2], 0, seed: 3);
        const int k = 3;
        var batch = inputs.Draw(0, Enumerable.Repeat(k, N).ToArray(), Tensor.Zeros([N, 2]), null);
        var m = new double[] { 0, 0 };
        double v = Levels[0] * Levels[0];
        for (int j = 0; j < k - 1; j++)
        {
            double f = (S * S + Levels[j] * Levels[j + 1]) / (S * S + Levels[j] * Levels[j]);
            for (int d = 0; d < 2; d++) m[d] = Mu[d] + f * (m[d] - Mu[d]);
            v *= f * f;
        }
        double a = A(Levels[k - 1]);
        AssertMoments(batch.X.ToArray(), m.Select((mj, d) => Mu[d] + a * (mj - Mu[d])).ToArray(), a * a * v + Levels[k] * Levels[k], "euler walk at step 3");
    }

    [Test]
    public void SourcesAreDrawnInTheScheduledProportionsAndKeepTheirSamplesLabels()
    {
        var inputs = new DdilInputs(Only(0.5, 0.2, 0.3) with { BufferSize = 64 }, new GaussianBase(renoises: true), [2], 0, seed: 4);
        const int n = 20_000;
        var batch = inputs.Draw(0, Enumerable.Repeat(1, n).ToArray(), Tensor.Zeros([n, 2]), null);
        Assert.That(batch.DataCount + batch.TeacherCount + batch.StudentCount, Is.EqualTo(n));
        double tol = 5 * Math.Sqrt(0.25 / n);
        Assert.That((double)batch.DataCount / n, Is.EqualTo(0.5).Within(tol));
        Assert.That((double)batch.TeacherCount / n, Is.EqualTo(0.2).Within(tol));
        Assert.That((double)batch.StudentCount / n, Is.EqualTo(0.3).Within(tol));
        Assert.That(batch.X.Shape, Is.EqualTo(new Shape(n, 2)));
        // The data block comes first and is the data noised: x0 = 0 gives samples of spread σ_1 around 0.
        var first = batch.X.ToArray()[..(2 * batch.DataCount)];
        Assert.That(first.Average(), Is.EqualTo(0).Within(5 * Levels[1] / Math.Sqrt(first.Length)));
    }

    [Test]
    public void AConditionalRunKeepsTheDataLabelsForDataAndTeacherAndTheBuffersForStudentRollouts()
    {
        var means = new[] { new[] { 3.0, 3.0 }, new[] { -3.0, -3.0 } };
        var net = new GaussianDenoiserNet(new Edm(), S, Mu, means);
        var inputs = new DdilInputs(Only(0.4, 0.3, 0.3) with { BufferSize = 32 }, new GaussianBase(renoises: true, student: net), [2], 2, seed: 5);
        const int n = 400;
        var labels = Tensor.FromSpan(Enumerable.Range(0, n).Select(i => (float)(i % 2)).ToArray(), [n]);
        var batch = inputs.Draw(0, Enumerable.Repeat(3, n).ToArray(), Tensor.Zeros([n, 2]), labels);
        var got = batch.Labels!.ToArray();
        Assert.That(got[..(batch.DataCount + batch.TeacherCount)], Is.EqualTo(labels.ToArray()[..(batch.DataCount + batch.TeacherCount)]));
        var x = batch.X.ToArray();
        // A student rollout of class c ends near its class mean (3 or −3); its label must be the one it was rolled out with.
        for (int i = batch.DataCount + batch.TeacherCount; i < n; i++)
            Assert.That(Math.Sign(x[2 * i]), Is.EqualTo(got[i] == 0 ? 1 : -1), $"student rollout {i}");
    }

    [TestCase(3)]
    [TestCase(12)]
    public void ARankDrawsItsRowsOfTheWholeBatchAndKeepsTheStreamOfOneProcess(int ranks)
    {
        // Every source in one batch, a mixed policy and a re-noising student: a rank's rows (one row each at 12 ranks,
        // so some ranks hold no teacher rollout) must be those rows of the one-process draw, two iterations running.
        var means = new[] { new[] { 3.0, 3.0 }, new[] { -3.0, -3.0 } };
        var net = new GaussianDenoiserNet(new Edm(), S, Mu, means);
        var options = Only(0.3, 0.4, 0.3) with { BufferSize = 8, MixProbability = 0.5 };
        const int n = 12;
        var steps = Enumerable.Range(0, n).Select(i => i % Levels.Length).ToArray();
        var x0 = new DiffKernels.Random.Generator(3).Normal([n, 2]);
        var labels = Tensor.FromSpan(Enumerable.Range(0, n).Select(i => (float)(i % 2)).ToArray(), [n]);
        var one = new DdilInputs(options, new GaussianBase(renoises: true, student: net), [2], 2, seed: 6);
        var whole = Enumerable.Range(0, 2).Select(step => one.Draw(step, steps, x0, labels)).ToArray();
        Assert.That(whole.Select(b => (b.DataCount > 0, b.TeacherCount > 0, b.StudentCount > 0)), Has.All.EqualTo((true, true, true)));
        for (int rank = 0; rank < ranks; rank++)
        {
            var rows = new BatchShard(rank, ranks, n);
            var mine = new DdilInputs(options, new GaussianBase(renoises: true, student: net), [2], 2, seed: 6);
            for (int step = 0; step < 2; step++)
            {
                var got = mine.Draw(step, steps, x0, labels, rows);
                Assert.That((got.DataCount, got.TeacherCount, got.StudentCount), Is.EqualTo((whole[step].DataCount, whole[step].TeacherCount, whole[step].StudentCount)));
                Assert.That(got.X.ToArray(), Is.EqualTo(rows.RowsOf(whole[step].X).ToArray()).Within(1e-5), $"rank {rank}, iteration {step}");
                Assert.That(got.Sigma.ToArray(), Is.EqualTo(rows.RowsOf(whole[step].Sigma).ToArray()));
                Assert.That(got.Labels!.ToArray(), Is.EqualTo(rows.RowsOf(whole[step].Labels!).ToArray()));
            }
        }
    }

    [Test]
    public void DrawsAreRefusedForMismatchedBatches()
    {
        var inputs = new DdilInputs(Only(1, 0, 0), new GaussianBase(renoises: true), [2], 0, seed: 6);
        Assert.That(() => inputs.Draw(0, [0, 1], Tensor.Zeros([3, 2]), null), Throws.ArgumentException.With.Message.Contains("3 data samples for 2 step indices"));
        Assert.That(() => new DdilInputs(new DdilOptions(), new GaussianBase(renoises: true), [2], 0, seed: 6),
            Throws.ArgumentException.With.Message.Contains("schedule period"));
    }
}
