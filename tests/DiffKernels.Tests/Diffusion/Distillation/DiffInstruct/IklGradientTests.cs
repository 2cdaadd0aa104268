using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.DiffInstruct;

/// <summary>
/// Diff-Instruct's pseudo-gradient against the closed-form Integral KL gradient. Teacher data N(μ, diag s²), generator
/// x = μ_g + a ⊙ z (so q = N(μ_g, diag a²)), both denoisers exact. Per coordinate, with v_p = s² + σ² and
/// v_q = a² + σ², KL(q_σ ‖ p_σ) = ½[ln(v_p/v_q) + (v_q + (μ_g − μ)²)/v_p − 1], so
/// ∂KL/∂μ_g = (μ_g − μ)/v_p and ∂KL/∂a = a·(1/v_p − 1/v_q). The pseudo-gradient's expectation over z and n is
/// σ²·∇KL(q_σ ‖ p_σ) at each σ (D_φ − D_T = σ²(s_q − s_p)); over the log-normal σ it is E_σ[σ²·∇KL].
/// </summary>
public class IklGradientTests
{
    private static readonly double[] TeacherMean = [-0.4, 0.1, 1.0];
    private static readonly double[] TeacherStd = [0.7, 0.5, 0.3];
    // Coordinate 2 has the teacher's mean (no μ gradient), coordinate 1 its spread (no scale gradient).
    private static readonly double[] GeneratorMean = [0.3, -0.2, 1.0];
    private static readonly double[] GeneratorScale = [1.2, 0.5, 0.9];

    /// <summary>σ²·∂KL/∂μ_g and σ²·∂KL/∂a for coordinate <paramref name="d"/> at noise level <paramref name="sigma"/>.</summary>
    private static (double Mu, double Scale) WeightedKlGradient(double sigma, int d)
    {
        double s2 = sigma * sigma, a = GeneratorScale[d];
        double vp = TeacherStd[d] * TeacherStd[d] + s2, vq = a * a + s2;
        return (s2 * (GeneratorMean[d] - TeacherMean[d]) / vp, s2 * a * (1 / vp - 1 / vq));
    }

    /// <summary>E over ln σ ~ N(m, std²) of <see cref="WeightedKlGradient"/>, by the midpoint rule over ±10 std.</summary>
    private static (double Mu, double Scale) ExpectedOverLogNormal(int d, double m, double std)
    {
        const int points = 20_000;
        double mu = 0, scale = 0, h = 20.0 / points;
        for (int k = 0; k < points; k++)
        {
            double u = -10 + (k + 0.5) * h;
            double w = Math.Exp(-0.5 * u * u) / Math.Sqrt(2 * Math.PI) * h;
            var g = WeightedKlGradient(Math.Exp(m + std * u), d);
            mu += w * g.Mu;
            scale += w * g.Scale;
        }
        return (mu, scale);
    }

    /// <summary>
    /// Runs <see cref="DiffInstructGradient.Backward"/> on N samples with the given σ's and returns the gradients it
    /// accumulated on μ_g and a, plus the per-sample contributions recomputed on the host in double (for the
    /// Monte Carlo standard error): sample i adds g_i to ∂μ_g and g_i·z_i to ∂a, g = D_φ − D_T at x_g + σn.
    /// </summary>
    private static (double[] Mu, double[] Scale, double[][] MuTerms, double[][] ScaleTerms) Run(Func<int, Generator, Tensor> sigmas, int n, ulong seed)
    {
        var edm = new Edm();
        using var generator = new AffineGenerator(GeneratorMean, GeneratorScale);
        using var teacher = new FrozenTeacher(new DiagonalGaussianDenoiser(edm, TeacherMean, TeacherStd), edm);
        var exact = new DiagonalGaussianDenoiser(edm, TeacherMean, TeacherStd);
        var auxiliary = new DiagonalGaussianDenoiser(edm, generator.MuValues, () => generator.ScaleValues().Select(Math.Abs).ToArray());
        using var scope = Tensor.Scope();
        var rng = new Generator(seed);
        int dim = GeneratorMean.Length;
        var z = rng.Normal([n, dim]);
        var sigma = sigmas(n, rng);
        var noise = rng.Normal([n, dim]);
        double gap = DiffInstructGradient.Backward(generator, teacher, auxiliary, z, null, sigma, noise);
        Assert.That(double.IsFinite(gap) && gap > 0);

        float[] zs = z.ToArray(), ns = noise.ToArray(), ss = sigma.ToArray();
        var muTerms = new double[dim][];
        var scaleTerms = new double[dim][];
        for (int d = 0; d < dim; d++)
        {
            muTerms[d] = new double[n];
            scaleTerms[d] = new double[n];
            for (int i = 0; i < n; i++)
            {
                double zi = zs[i * dim + d], s = ss[i];
                double xs = GeneratorMean[d] + GeneratorScale[d] * zi + s * ns[i * dim + d];
                double g = auxiliary.D(xs, s, d) - exact.D(xs, s, d);
                muTerms[d][i] = g;
                scaleTerms[d][i] = g * zi;
            }
        }
        return (generator.Mu.Grad!.ToArray().Select(v => (double)v).ToArray(), generator.Scale.Grad!.ToArray().Select(v => (double)v).ToArray(), muTerms, scaleTerms);
    }

    private static double Mean(double[] v) => v.Average();

    private static double StandardError(double[] v)
    {
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / (v.Length - 1) / v.Length);
    }

    /// <summary>
    /// The library's gradient equals the host's per-sample mean up to float summation over N terms, and matches the
    /// closed form within 4 standard errors (plus the same float allowance).
    /// </summary>
    private static void AssertMatches(double library, double[] terms, double expected, string what)
    {
        double se = StandardError(terms), rounding = 2e-3 * terms.Average(Math.Abs);
        Assert.That(library, Is.EqualTo(Mean(terms)).Within(rounding), $"{what}: pipeline vs host recomputation");
        Assert.That(library, Is.EqualTo(expected).Within(4 * se + rounding), $"{what}: Monte Carlo vs closed form (SE {se:G3})");
        // The check has teeth: the allowance is small next to every non-zero expectation.
        if (Math.Abs(expected) > 1e-9) Assert.That(4 * se + rounding, Is.LessThan(0.25 * Math.Abs(expected)), $"{what}: too few samples to test");
    }

    [TestCase(0.05)]
    [TestCase(0.5)]
    [TestCase(2.0)]
    [TestCase(5.0)]
    public void AtOneNoiseLevelThePseudoGradientIsSigmaSquaredTimesTheKlGradient(double sigma)
    {
        const int n = 100_000;
        var (mu, scale, muTerms, scaleTerms) = Run((count, _) => Tensor.Full([count], (float)sigma), n, seed: 11);
        for (int d = 0; d < GeneratorMean.Length; d++)
        {
            var expected = WeightedKlGradient((float)sigma, d);
            AssertMatches(mu[d], muTerms[d], expected.Mu, $"∂μ_g[{d}] at σ = {sigma}");
            AssertMatches(scale[d], scaleTerms[d], expected.Scale, $"∂a[{d}] at σ = {sigma}");
        }
        Assert.That(mu[2], Is.EqualTo(0).Within(4 * StandardError(muTerms[2])), "equal means: no mean gradient");
        Assert.That(Math.Sign(mu[0]), Is.EqualTo(Math.Sign(GeneratorMean[0] - TeacherMean[0])), "the gradient points away from the teacher's mean");
        Assert.That(scale[0], Is.GreaterThan(0), "too wide a generator is pushed to shrink");
    }

    [Test]
    public void OverLogNormalNoiseLevelsThePseudoGradientIsTheIntegralKlGradient()
    {
        const int n = 200_000;
        var edm = new Edm();
        var (mu, scale, muTerms, scaleTerms) = Run((count, rng) => edm.SampleSigma(count, rng), n, seed: 5);
        for (int d = 0; d < GeneratorMean.Length; d++)
        {
            var expected = ExpectedOverLogNormal(d, edm.PMean, edm.PStd);
            AssertMatches(mu[d], muTerms[d], expected.Mu, $"∂μ_g[{d}]");
            AssertMatches(scale[d], scaleTerms[d], expected.Scale, $"∂a[{d}]");
        }
    }
}
