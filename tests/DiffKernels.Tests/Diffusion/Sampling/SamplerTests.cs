using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>
/// The ODE samplers against data N(μ, s²) whose exact denoiser is known: the probability-flow ODE is then
/// affine, x(0) = μ + (x(σmax) − μ)·s/√(s² + σmax²), so every sample has an exact endpoint.
/// </summary>
public class SamplerTests
{
    private const double S = 0.6;
    private static readonly double[] Mu = [0.7, -0.4];

    private static (float[] Samples, float[] Exact, int Nfe, int Calls) Run(SamplerKind kind, int steps, int n = 2000, int batch = 512, ulong seed = 1)
    {
        var edm = new Edm();
        var net = new GaussianDenoiserNet(edm, S, Mu);
        using var _ = Tensor.Scope();
        var options = new SamplerOptions(kind, steps, Seed: seed, BatchSize: batch);
        var result = DiffusionSampler.Generate(net, edm, n, options);
        var z = new Generator(seed).Normal([n, 2]).ToArray();
        double s0 = options.Grid()[0], gain = S / Math.Sqrt(S * S + s0 * s0);
        var exact = z.Select((v, i) => (float)(Mu[i % 2] + (s0 * v - Mu[i % 2]) * gain)).ToArray();
        return (result.Samples.ToArray(), exact, result.Nfe, net.Calls);
    }

    private static double MaxError(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    /// <summary>
    /// On this linear ODE every sampler maps x(σ₀) − μ to g·(x(σ₀) − μ) for a scalar g; returns g/g_exact − 1,
    /// fitted by least squares over the samples, and the largest residual of that fit.
    /// </summary>
    private static (double GainError, double Residual) Fit(float[] samples, float[] exact)
    {
        double num = 0, den = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            double e = exact[i] - Mu[i % 2];
            num += (samples[i] - Mu[i % 2]) * e;
            den += e * e;
        }
        double g = num / den, residual = 0;
        for (int i = 0; i < samples.Length; i++)
            residual = Math.Max(residual, Math.Abs(samples[i] - Mu[i % 2] - g * (exact[i] - Mu[i % 2])));
        return (g - 1, residual);
    }

    /// <summary>The same integration of d ln(x − μ)/dσ = σ/(s² + σ²) for one scalar, in double: the expected g/g_exact − 1.</summary>
    private static double ReferenceGainError(SamplerKind kind, double[] grid)
    {
        double x = 1;
        double Slope(double v, double sigma) => v * sigma / (S * S + sigma * sigma);
        for (int i = 0; i + 1 < grid.Length; i++)
        {
            double a = grid[i], b = grid[i + 1], d = Slope(x, a), next = x + (b - a) * d;
            if (kind == SamplerKind.Heun && b > 0) next = x + (b - a) * (d + Slope(next, b)) / 2;
            x = next;
        }
        return x / (S / Math.Sqrt(S * S + grid[0] * grid[0])) - 1;
    }

    [TestCase(SamplerKind.Heun, 18, 35)]
    [TestCase(SamplerKind.Euler, 18, 18)]
    [TestCase(SamplerKind.Ddim, 25, 25)]
    public void EachSamplerMatchesItsDoublePrecisionReference(SamplerKind kind, int steps, int expectedNfe)
    {
        var (samples, exact, nfe, calls) = Run(kind, steps);
        Assert.That(nfe, Is.EqualTo(expectedNfe));
        Assert.That(calls, Is.EqualTo(expectedNfe * 4), "one network call per evaluation and batch (2000 samples in batches of 512)");
        var (gainError, residual) = Fit(samples, exact);
        double reference = ReferenceGainError(kind, new SamplerOptions(kind, steps).Grid());
        Assert.That(gainError, Is.EqualTo(reference).Within(2e-4), "discretisation error as computed in double");
        Assert.That(residual, Is.LessThan(1e-4), "float32 rounding only");
    }

    [Test]
    public void HeunWithEnoughStepsReproducesTheTargetMeanAndVariance()
    {
        var (samples, exact, nfe, _) = Run(SamplerKind.Heun, 64);
        Assert.That(nfe, Is.EqualTo(127));
        // The discretisation error of the spread is 0.35% here; every sample is within 0.01 of its exact endpoint.
        Assert.That(MaxError(samples, exact), Is.LessThan(0.01));
        for (int d = 0; d < 2; d++)
        {
            var v = samples.Where((_, i) => i % 2 == d).Select(x => (double)x).ToArray();
            double mean = v.Average(), var = v.Select(x => (x - mean) * (x - mean)).Average();
            // 2000 samples: the standard error of the mean is 0.6/√2000 ≈ 0.013, of the variance ≈ 0.011.
            Assert.That(mean, Is.EqualTo(Mu[d]).Within(0.05));
            Assert.That(var, Is.EqualTo(S * S).Within(0.045));
        }
    }

    [Test]
    public void HeunConvergesAtSecondOrderAndEulerAtFirst()
    {
        double Error(SamplerKind kind, int steps)
        {
            var (samples, exact, _, _) = Run(kind, steps, n: 256);
            return Math.Abs(Fit(samples, exact).GainError);
        }
        double h32 = Error(SamplerKind.Heun, 32), h64 = Error(SamplerKind.Heun, 64);
        Assert.That(h32 / h64, Is.InRange(3.5, 5), "halving the step quarters Heun's error");
        double e32 = Error(SamplerKind.Euler, 32), e128 = Error(SamplerKind.Euler, 128);
        Assert.That(e32 / e128, Is.InRange(3, 5), "quartering the step quarters Euler's error");
        Assert.That(e128, Is.LessThan(0.025));
        Assert.That(Error(SamplerKind.Ddim, 400), Is.LessThan(Error(SamplerKind.Ddim, 100) / 3));
    }

    [Test]
    public void SamplesDependOnTheSeedNotTheBatchSize()
    {
        var a = Run(SamplerKind.Heun, 5, n: 300, batch: 300);
        var b = Run(SamplerKind.Heun, 5, n: 300, batch: 64);
        Assert.That(b.Samples, Is.EqualTo(a.Samples));
        Assert.That(Run(SamplerKind.Heun, 5, n: 300, seed: 2).Samples, Is.Not.EqualTo(a.Samples));
    }

    [Test]
    public void StepsDoNotAccumulateTensors()
    {
        var edm = new Edm();
        var net = new GaussianDenoiserNet(edm, S, Mu);
        using var outer = Tensor.Scope();
        var x = Tensor.Full([16, 2], 80f);
        var live = new List<int>();
        Denoiser d = (xi, sigma) =>
        {
            live.Add(outer.Count);
            return edm.Denoise(net, xi, sigma);
        };
        int nfe = 0;
        var y = OdeSampler.Heun(d, x, SigmaGrid.Karras(30), ref nfe);
        Assert.That(nfe, Is.EqualTo(59));
        Assert.That(live.Max() - live.Min(), Is.LessThanOrEqualTo(1), "only the current x is kept between steps");
        Assert.That(outer.Count, Is.EqualTo(2), "the input and the result");
        Assert.That(y.IsDisposed, Is.False);
    }

    [Test]
    public void GridsMustDecrease()
    {
        int nfe = 0;
        using var _ = Tensor.Scope();
        Assert.Throws<ArgumentException>(() => OdeSampler.Euler((x, _) => x, Tensor.Zeros([1, 2]), [1.0, 2.0, 0], ref nfe));
        Assert.Throws<ArgumentException>(() => OdeSampler.Heun((x, _) => x, Tensor.Zeros([1, 2]), [1.0], ref nfe));
        Assert.That(SamplerOptions.ParseKind("DDIM"), Is.EqualTo(SamplerKind.Ddim));
        Assert.Throws<ArgumentException>(() => SamplerOptions.ParseKind("dpm"));
    }
}
