using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The raw network F_θ inside EDM preconditioning: D(x; σ) = c_skip·x + c_out·F_θ(c_in·x; c_noise, c).
/// Implemented by the toy Mlp, the UNet and the DiT, so every trainer, sampler and distiller works
/// with any of them.
/// </summary>
public interface INoiseNet
{
    /// <summary>
    /// F_θ for a batch: <paramref name="x"/> is [N, 2] for 2D toys or [N, H, W, C] (NHWC) for images;
    /// <paramref name="cNoise"/> is [N]; <paramref name="labels"/> holds class ids as floats [N], with −1
    /// meaning "no class" (the unconditional branch for guidance), or is null for an unconditional
    /// model. Returns a tensor shaped like <paramref name="x"/>.
    /// </summary>
    Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels);

    /// <summary>Number of classes the network is conditioned on (0 for unconditional).</summary>
    int NumClasses { get; }

    /// <summary>Shape of one sample, e.g. [2] or [32, 32, 1].</summary>
    Shape SampleShape { get; }
}
