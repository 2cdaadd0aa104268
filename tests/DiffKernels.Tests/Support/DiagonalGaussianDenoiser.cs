using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// The exact denoiser of N(μ, diag s²) data, D(x; σ) = μ + s²/(s² + σ²)·(x − μ) per coordinate, as an EDM network
/// output (the preconditioning inverted in double). μ and s are read through delegates at every call, so the
/// same class serves as a fixed teacher and as an auxiliary denoiser that follows a generator's current weights.
/// </summary>
internal sealed class DiagonalGaussianDenoiser(Edm edm, Func<double[]> mean, Func<double[]> std) : INoiseNet
{
    public DiagonalGaussianDenoiser(Edm edm, double[] mean, double[] std) : this(edm, () => mean, () => std)
    {
    }

    public int NumClasses => 0;

    public Shape SampleShape => [mean().Length];

    /// <summary>The exact D for coordinate <paramref name="d"/> at the current μ and s.</summary>
    public double D(double x, double sigma, int d) => D(x, sigma, mean()[d], std()[d]);

    private static double D(double x, double sigma, double m, double s) => m + s * s / (s * s + sigma * sigma) * (x - m);

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        int n = x.Shape[0], dim = SampleShape[0];
        float[] xs = x.ToArray(), cs = cNoise.ToArray();
        double[] m = mean(), s = std();
        var f = new float[xs.Length];
        for (int i = 0; i < n; i++)
        {
            double sigma = Math.Exp(4.0 * cs[i]);
            var c = edm.Coefficients(sigma);
            for (int d = 0; d < dim; d++)
            {
                double xi = xs[i * dim + d] / c.CIn;
                f[i * dim + d] = (float)((D(xi, sigma, m[d], s[d]) - c.CSkip * xi) / c.COut);
            }
        }
        return Tensor.FromSpan(f, x.Shape, x.Device);
    }
}
