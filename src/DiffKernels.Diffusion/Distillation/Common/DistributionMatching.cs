using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>
/// The distribution-matching pseudo-gradient that Diff-Instruct and DMD2 share: generator samples x_g (recorded),
/// x_s = SG(x_g) + σ·n, and with no graph through the teacher or the fake (auxiliary) denoiser
/// g = scale·(D_φ(x_s; σ) − D_T(x_s; σ))/w, pushed into the generator by x_g.Backward(g). The methods differ only in
/// w (1 for Diff-Instruct; DMD2's per-sample mean |x_g − D_T| + ε), the scale and the σ they draw.
/// </summary>
public static class DistributionMatching
{
    /// <summary>
    /// Accumulates the pseudo-gradient into whatever <paramref name="xg"/> was recorded from, for levels
    /// <paramref name="sigma"/> [N] and unit <paramref name="noise"/> shaped like x_g; <paramref name="normalise"/>
    /// divides each sample's difference by its mean |x_g − D_T| + <paramref name="eps"/> (see <see cref="F.ScoreDifference"/>).
    /// Returns the mean per-sample squared norm of the (normalised, unscaled) difference, a sync point; when that is not
    /// finite nothing is backpropagated. With <paramref name="threshold"/> both x0 estimates are thresholded first (see
    /// <see cref="F.ThresholdX0"/>).
    /// </summary>
    public static double Backward(Tensor xg, FrozenTeacher teacher, INoiseNet fake, Tensor sigma, Tensor noise, Tensor? labels, float scale,
        bool normalise = false, float eps = 0f, float? threshold = null)
    {
        if (!xg.RequiresGrad)
            throw new InvalidOperationException("DistributionMatching: the generator's output does not require grad (called under NoGrad, or a generator without trainable parameters)");
        Tensor g;
        double gap;
        using (Tensor.NoGrad())
        {
            var pair = RealFakeDenoisers.Evaluate(teacher, fake, xg, sigma, noise, labels);
            var (real, fakeEstimate) = (X0Threshold.Apply(pair.Real, threshold), X0Threshold.Apply(pair.Fake, threshold));
            var difference = F.ScoreDifference(xg, real, fakeEstimate, normalise, eps);
            gap = RealFakeDenoisers.MeanSquaredNorm(difference);
            g = F.MulScalar(difference, scale);
        }
        if (double.IsFinite(gap)) xg.Backward(g);
        return gap;
    }
}
