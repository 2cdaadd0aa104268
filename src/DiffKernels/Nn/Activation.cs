using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>A parameter-free elementwise layer (for <see cref="Sequential"/>).</summary>
public sealed class Activation : Module, ILayer
{
    private readonly Func<Tensor, Tensor> _f;

    /// <summary>Wraps an elementwise function under a display name.</summary>
    public Activation(string name, Func<Tensor, Tensor> f)
    {
        Name = name;
        _f = f;
    }

    /// <summary>Display name, e.g. "silu".</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => _f(x);

    /// <summary>x·σ(x).</summary>
    public static Activation Silu() => new("silu", F.Silu);

    /// <summary>max(x, 0).</summary>
    public static Activation Relu() => new("relu", F.Relu);

    /// <summary>Exact GELU.</summary>
    public static Activation Gelu() => new("gelu", F.Gelu);

    /// <summary>tanh.</summary>
    public static Activation Tanh() => new("tanh", F.Tanh);

    /// <summary>Logistic sigmoid.</summary>
    public static Activation Sigmoid() => new("sigmoid", F.Sigmoid);

    /// <inheritdoc/>
    public override string ToString() => $"Activation({Name})";
}
