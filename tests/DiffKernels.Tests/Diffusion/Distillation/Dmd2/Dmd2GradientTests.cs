using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Distillation.Dmd2;

/// <summary>
/// DMD2's pseudo-gradient against its closed form in the Gaussian case of <see cref="IklGradientTests"/>: teacher data
/// N(μ, diag s²), generator x = μ_g + a ⊙ z, both denoisers exact, one σ. Each of the three coordinate types is repeated
/// R times, so a sample has P = 3R coordinates. Per coordinate the numerator D_φ − D_T has expectation σ²·∇KL(q_σ ‖ p_σ)
/// (in μ_g, and in a after multiplying by z); the normaliser W = x_g − D_T(x_g + σn) = (1 − k)(x_g − μ) − kσn with
/// k = s²/(s² + σ²) is Gaussian with mean (1 − k)(μ_g − μ) and variance (1 − k)²a² + k²σ², and the per-sample mean of
/// |W| over P coordinates concentrates at the mean over types of E|W| (folded normal). So the gradient the library
/// accumulates, times numel/N = P, is σ²·∇KL / mean E|W| per coordinate, up to O(1/P) from the normaliser's spread.
/// </summary>
public class Dmd2GradientTests
{
    private const int Replicas = 100;
    private static readonly double[] TeacherMean = [-0.4, 0.1, 1.0];
    private static readonly double[] TeacherStd = [0.7, 0.5, 0.3];
    private static readonly double[] GeneratorMean = [0.3, -0.2, 1.0];
    private static readonly double[] GeneratorScale = [1.2, 0.5, 0.9];

    private static double[] Repeat(double[] perType) => Enumerable.Range(0, perType.Length * Replicas).Select(d => perType[d / Replicas]).ToArray();

    /// <summary>E|W| for W ~ N(m, v²), by the midpoint rule over ±12 v.</summary>
    private static double FoldedMean(double m, double v)
    {
        const int points = 40_000;
        double sum = 0, h = 24.0 / points;
        for (int k = 0; k < points; k++)
        {
            double u = -12 + (k + 0.5) * h;
            sum += Math.Abs(m + v * u) * Math.Exp(-0.5 * u * u) / Math.Sqrt(2 * Math.PI) * h;
        }
        return sum;
    }

    /// <summary>The mean over types of E|W| at <paramref name="sigma"/>: where the per-sample normaliser concentrates.</summary>
    private static double Normaliser(double sigma) => Enumerable.Range(0, 3).Average(t =>
    {
        double s2 = sigma * sigma, k = TeacherStd[t] * TeacherStd[t] / (TeacherStd[t] * TeacherStd[t] + s2);
        return FoldedMean((1 - k) * (GeneratorMean[t] - TeacherMean[t]), Math.Sqrt((1 - k) * (1 - k) * GeneratorScale[t] * GeneratorScale[t] + k * k * s2));
    });

    /// <summary>The closed form per type: (σ²·∂KL/∂μ_g, σ²·∂KL/∂a) / <see cref="Normaliser"/>.</summary>
    private static (double Mu, double Scale)[] Expected(double sigma)
    {
        double s2 = sigma * sigma, normaliser = Normaliser(sigma);
        return Enumerable.Range(0, 3).Select(t =>
        {
            double a = GeneratorScale[t], vp = TeacherStd[t] * TeacherStd[t] + s2, vq = a * a + s2;
            return (s2 * (GeneratorMean[t] - TeacherMean[t]) / vp / normaliser, s2 * a * (1 / vp - 1 / vq) / normaliser);
        }).ToArray();
    }

    [TestCase(0.3)]
    [TestCase(1.0)]
    [TestCase(3.0)]
    public void TheNormalisedGradientIsTheWeightedKlGradientOverTheMeanDistanceToTheTeachersEstimate(double sigma)
    {
        const int n = 4000;
        int dim = 3 * Replicas;
        var edm = new Edm();
        var teacherMean = Repeat(TeacherMean);
        var teacherStd = Repeat(TeacherStd);
        using var generator = new AffineGenerator(Repeat(GeneratorMean), Repeat(GeneratorScale));
        using var teacher = new FrozenTeacher(new DiagonalGaussianDenoiser(edm, teacherMean, teacherStd), edm);
        var exact = new DiagonalGaussianDenoiser(edm, teacherMean, teacherStd);
        var fake = new DiagonalGaussianDenoiser(edm, generator.MuValues, () => generator.ScaleValues().Select(Math.Abs).ToArray());
        using var scope = Tensor.Scope();
        var rng = new Generator(21);
        var z = rng.Normal([n, dim]);
        var noise = rng.Normal([n, dim]);
        var xg = generator.Generate(z, null);
        double gap = Dmd2Gradient.Backward(xg, teacher, fake, Tensor.Full([n], (float)sigma), noise);
        Assert.That(double.IsFinite(gap) && gap > 0);
        float[] muGrad = generator.Mu.Grad!.ToArray(), scaleGrad = generator.Scale.Grad!.ToArray();

        // Per sample and type, on the host in double: the mean over the type's coordinates of g/w (and of g·z/w).
        float[] zs = z.ToArray(), ns = noise.ToArray();
        var muTerms = new double[3][];
        var scaleTerms = new double[3][];
        for (int t = 0; t < 3; t++) (muTerms[t], scaleTerms[t]) = (new double[n], new double[n]);
        var g = new double[dim];
        for (int i = 0; i < n; i++)
        {
            double w = 0;
            for (int d = 0; d < dim; d++)
            {
                double x = GeneratorMean[d / Replicas] + GeneratorScale[d / Replicas] * zs[i * dim + d], xs = x + sigma * ns[i * dim + d];
                double real = exact.D(xs, sigma, d);
                g[d] = fake.D(xs, sigma, d) - real;
                w += Math.Abs(x - real);
            }
            w = w / dim + Dmd2Gradient.NormaliserEps;
            for (int d = 0; d < dim; d++)
            {
                muTerms[d / Replicas][i] += g[d] / w / Replicas;
                scaleTerms[d / Replicas][i] += g[d] * zs[i * dim + d] / w / Replicas;
            }
        }

        var expected = Expected(sigma);
        for (int t = 0; t < 3; t++)
        {
            double mu = Enumerable.Range(t * Replicas, Replicas).Average(d => (double)muGrad[d]) * dim;
            double scale = Enumerable.Range(t * Replicas, Replicas).Average(d => (double)scaleGrad[d]) * dim;
            Check(mu, muTerms[t], expected[t].Mu, $"∂μ_g, type {t}, σ = {sigma}");
            Check(scale, scaleTerms[t], expected[t].Scale, $"∂a, type {t}, σ = {sigma}");
        }
        // The normaliser is far from 1, so a gradient without it (or with another scale) would miss the closed form.
        Assert.That(Math.Abs(Math.Log(Normaliser(sigma))), Is.GreaterThan(0.25));
    }

    /// <summary>
    /// The library equals the host recomputation up to float rounding, and the closed form within 4 standard errors plus
    /// 3% of the largest expectation of its kind (the normaliser's O(1/P) spread); the allowance is small next to any
    /// non-zero expectation.
    /// </summary>
    private static void Check(double library, double[] terms, double expected, string what)
    {
        double mean = terms.Average(), se = Math.Sqrt(terms.Sum(x => (x - mean) * (x - mean)) / (terms.Length - 1) / terms.Length);
        double rounding = 2e-3 * terms.Average(Math.Abs);
        Assert.That(library, Is.EqualTo(mean).Within(rounding), $"{what}: pipeline vs host recomputation");
        double allowance = 4 * se + rounding + 0.03 * Math.Abs(expected);
        Assert.That(library, Is.EqualTo(expected).Within(allowance), $"{what}: Monte Carlo vs closed form (SE {se:G3})");
        if (Math.Abs(expected) > 1e-9) Assert.That(allowance, Is.LessThan(0.25 * Math.Abs(expected)), $"{what}: too few samples to test");
    }
}
