using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// DMD2's generator update direction: with x_s = x_g + σ·n and no graph through either denoiser,
/// g = (D_φ(x_s; σ) − D_T(x_s; σ)) / (mean over the sample of |x_g − D_T(x_s; σ)| + ε), pushed into the generator by
/// x_g.Backward(g / numel) — the gradient of the reference's 0.5·MSE(x_g, SG(x_g − g)). The score difference is
/// Diff-Instruct's; the per-sample normaliser makes the step size independent of how far the sample is from the data.
/// </summary>
public static class Dmd2Gradient
{
    /// <summary>ε of the normaliser (the reference's).</summary>
    public const float NormaliserEps = 1e-6f;

    /// <summary>
    /// Accumulates the pseudo-gradient into whatever the recorded student samples <paramref name="xg"/> came from, for
    /// levels <paramref name="sigma"/> [N] and unit <paramref name="noise"/> shaped like them. Returns the mean per-sample
    /// squared norm of the normalised difference (a sync point); when that is not finite nothing is backpropagated. With
    /// <paramref name="threshold"/> both denoisers' x0 estimates are thresholded first (reflected diffusion).
    /// </summary>
    public static double Backward(Tensor xg, FrozenTeacher teacher, INoiseNet fake, Tensor sigma, Tensor noise, Tensor? labels = null, float? threshold = null) =>
        DistributionMatching.Backward(xg, teacher, fake, sigma, noise, labels, 1f / xg.Numel, normalise: true, eps: NormaliserEps, threshold: threshold);
}
