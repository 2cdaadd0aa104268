using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

/// <summary>
/// Diff-Instruct's generator update direction, the gradient of the Integral KL between the generator's and the
/// teacher's diffused marginals: x_g = G(z), x_s = x_g + σ·n, and with no graph through either denoiser
/// g = (D_φ(x_s; σ) − D_T(x_s; σ))/N, pushed into the generator by x_g.Backward(g). Since
/// D_φ − D_T = σ²·(s_q − s_p), this is the IKL gradient with weight w(σ) ∝ σ² under the σ density used.
/// </summary>
public static class DiffInstructGradient
{
    /// <summary>
    /// Accumulates the pseudo-gradient into the generator's parameters for latents <paramref name="z"/>, levels
    /// <paramref name="sigma"/> [N] and unit <paramref name="noise"/> shaped like the samples. Returns the mean
    /// per-sample ‖D_φ − D_T‖² (a sync point); when that is not finite nothing is backpropagated.
    /// </summary>
    public static double Backward(IGenerator generator, FrozenTeacher teacher, INoiseNet auxiliary, Tensor z, Tensor? labels, Tensor sigma, Tensor noise)
    {
        using var scope = Tensor.Scope();
        var xg = generator.Generate(z, labels);
        if (!xg.RequiresGrad)
            throw new InvalidOperationException("DiffInstructGradient: the generator's output does not require grad (called under NoGrad, or a generator without trainable parameters)");
        return DistributionMatching.Backward(xg, teacher, auxiliary, sigma, noise, labels, 1f / xg.Shape[0]);
    }
}
