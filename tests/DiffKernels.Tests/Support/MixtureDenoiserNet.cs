using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>
/// The Bayes-optimal F_θ for an equal-weight mixture of isotropic 2D Gaussians: D(x; σ) = Σ_k r_k(x)·(μ_k +
/// s_k²/(s_k² + σ²)·(x − μ_k)) with responsibilities r_k ∝ N(x; μ_k, (s_k² + σ²)I), turned into a network output
/// by inverting the EDM preconditioning, in double. Its EDM loss is the smallest any network can reach.
/// </summary>
internal sealed class MixtureDenoiserNet(Edm edm, IReadOnlyList<ToyMode> modes) : INoiseNet
{
    public int NumClasses => 0;

    public Shape SampleShape => [2];

    public (double X, double Y) D(double x, double y, double sigma)
    {
        var logw = new double[modes.Count];
        for (int k = 0; k < modes.Count; k++)
        {
            double v = modes[k].Std * modes[k].Std + sigma * sigma;
            logw[k] = -((x - modes[k].X) * (x - modes[k].X) + (y - modes[k].Y) * (y - modes[k].Y)) / (2 * v) - Math.Log(v);
        }
        double max = logw.Max(), total = 0, dx = 0, dy = 0;
        for (int k = 0; k < modes.Count; k++)
        {
            double w = Math.Exp(logw[k] - max), s2 = modes[k].Std * modes[k].Std, shrink = s2 / (s2 + sigma * sigma);
            total += w;
            dx += w * (modes[k].X + shrink * (x - modes[k].X));
            dy += w * (modes[k].Y + shrink * (y - modes[k].Y));
        }
        return (dx / total, dy / total);
    }

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        float[] xs = x.ToArray(), cs = cNoise.ToArray();
        var f = new float[xs.Length];
        for (int i = 0; i < cs.Length; i++)
        {
            double sigma = Math.Exp(4.0 * cs[i]);
            var c = edm.Coefficients(sigma);
            double px = xs[2 * i] / c.CIn, py = xs[2 * i + 1] / c.CIn;
            var (dx, dy) = D(px, py, sigma);
            f[2 * i] = (float)((dx - c.CSkip * px) / c.COut);
            f[2 * i + 1] = (float)((dy - c.CSkip * py) / c.COut);
        }
        return Tensor.FromSpan(f, x.Shape, x.Device);
    }
}
