using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// y = x·Wᵀ + b over the last dimension: "weight" [out, in] and optional "bias" [out], initialised
/// like PyTorch (weight Kaiming-uniform with slope √5, i.e. U(±1/√in); bias U(±1/√in)).
/// </summary>
public sealed class Linear : Module, ILayer
{
    /// <summary>Creates the layer, drawing its initial values from <paramref name="gen"/> (default: <see cref="Init.DefaultGenerator"/>).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? gen = null, Device? device = null)
    {
        if (inFeatures < 1 || outFeatures < 1)
            throw new ArgumentException($"Linear: features must be positive, got in = {inFeatures}, out = {outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Empty([outFeatures, inFeatures], device));
        Init.KaimingUniform(Weight, Nonlinearity.LeakyRelu, MathF.Sqrt(5f), gen: gen);
        if (bias)
        {
            float bound = 1f / MathF.Sqrt(inFeatures);
            Bias = RegisterParameter("bias", Tensor.Empty([outFeatures], device));
            Init.Uniform(Bias, -bound, bound, gen);
        }
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>Weight [out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>Bias [out], or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);
}
