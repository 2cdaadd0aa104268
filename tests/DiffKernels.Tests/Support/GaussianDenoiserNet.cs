using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// The exact F_θ for data whose coordinates are independent N(μ_c, s²) given class c (μ_∅ for label −1
/// or no label): D(x; σ) = μ + s²/(s² + σ²)·(x − μ), turned into a network output by inverting the EDM
/// preconditioning (σ = exp(4·c_noise), x = x_in/c_in, F = (D − c_skip·x)/c_out), in double.
/// </summary>
internal sealed class GaussianDenoiserNet(Edm edm, double s, double[] unconditionalMean, double[][]? classMeans = null) : INoiseNet
{
    public int Calls { get; private set; }

    public int NumClasses => classMeans?.Length ?? 0;

    public Shape SampleShape => [unconditionalMean.Length];

    /// <summary>The exact denoiser for one coordinate.</summary>
    public double D(double x, double sigma, double mean) => mean + s * s / (s * s + sigma * sigma) * (x - mean);

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        Calls++;
        int n = x.Shape[0], dim = SampleShape[0];
        float[] xs = x.ToArray(), cs = cNoise.ToArray();
        float[]? ls = labels?.ToArray();
        var f = new float[xs.Length];
        for (int i = 0; i < n; i++)
        {
            double sigma = Math.Exp(4.0 * cs[i]);
            var c = edm.Coefficients(sigma);
            var mean = ls == null || ls[i] < 0 ? unconditionalMean : classMeans![(int)ls[i]];
            for (int d = 0; d < dim; d++)
            {
                double xi = xs[i * dim + d] / c.CIn;
                f[i * dim + d] = (float)((D(xi, sigma, mean[d]) - c.CSkip * xi) / c.COut);
            }
        }
        return Tensor.FromSpan(f, x.Shape, x.Device);
    }
}
