using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>A denoiser network whose lowest-resolution features can be read (DMD2's GAN head classifies them).</summary>
public interface IBottleneckFeatures : INoiseNet
{
    /// <summary>
    /// The features after the network's deepest block for the inputs <see cref="INoiseNet.Forward"/> takes, recorded like
    /// it: a UNet's after its middle blocks [N, h, w, C] (NHWC), an Mlp's last hidden activations [N, H].
    /// </summary>
    Tensor Bottleneck(Tensor x, Tensor cNoise, Tensor? labels);
}
