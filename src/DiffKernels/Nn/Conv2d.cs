using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// 2-D convolution over NHWC input with a square kernel: "weight" [Cout, K, K, Cin] and optional
/// "bias" [Cout], initialised like PyTorch (U(±1/√fan_in) with fan_in = K·K·Cin for both).
/// </summary>
public sealed class Conv2d : Module, ILayer
{
    /// <summary>Creates the layer, drawing its initial values from <paramref name="gen"/> (default: <see cref="Init.DefaultGenerator"/>).</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, Generator? gen = null, Device? device = null)
    {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1)
            throw new ArgumentException($"Conv2d: channels and kernel size must be positive, got in = {inChannels}, out = {outChannels}, kernel = {kernelSize}");
        if (stride < 1 || padding < 0)
            throw new ArgumentException($"Conv2d: stride must be ≥ 1 and padding ≥ 0, got stride = {stride}, padding = {padding}");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Weight = RegisterParameter("weight", Tensor.Empty([outChannels, kernelSize, kernelSize, inChannels], device));
        Init.KaimingUniform(Weight, Nonlinearity.LeakyRelu, MathF.Sqrt(5f), gen: gen);
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(kernelSize * kernelSize * inChannels);
            Bias = RegisterParameter("bias", Tensor.Empty([outChannels], device));
            Init.Uniform(Bias, -bound, bound, gen);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel height and width.</summary>
    public int KernelSize { get; }

    /// <summary>Stride on both axes.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; }

    /// <summary>Weight [Cout, K, K, Cin].</summary>
    public Tensor Weight { get; }

    /// <summary>Bias [Cout], or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, Stride, Padding);
}
