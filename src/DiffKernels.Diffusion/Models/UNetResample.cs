using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>Halves the feature map with a stride-2 3×3 convolution ("conv"), keeping the channels.</summary>
public sealed class UNetDownsample : Module, ILayer
{
    /// <summary>Creates the layer.</summary>
    public UNetDownsample(int channels, Generator? gen = null, Device? device = null) =>
        Conv = RegisterModule("conv", new Conv2d(channels, channels, 3, stride: 2, padding: 1, gen: gen, device: device));

    /// <summary>The stride-2 convolution.</summary>
    public Conv2d Conv { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => Conv.Forward(x);
}

/// <summary>Doubles the feature map by nearest-neighbour upsampling and a 3×3 convolution ("conv").</summary>
public sealed class UNetUpsample : Module, ILayer
{
    /// <summary>Creates the layer.</summary>
    public UNetUpsample(int channels, Generator? gen = null, Device? device = null) =>
        Conv = RegisterModule("conv", new Conv2d(channels, channels, 3, padding: 1, gen: gen, device: device));

    /// <summary>The convolution after upsampling.</summary>
    public Conv2d Conv { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => Conv.Forward(F.Upsample2x(x));
}
