using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>Layer normalisation over the last dimension, with "weight" (ones) and "bias" (zeros) when affine.</summary>
public sealed class LayerNorm : Module, ILayer
{
    /// <summary>Creates the layer over a last dimension of <paramref name="dim"/>.</summary>
    public LayerNorm(int dim, float eps = 1e-5f, bool affine = true, Device? device = null)
    {
        if (dim < 1) throw new ArgumentException($"LayerNorm: dimension must be positive, got {dim}");
        if (!(eps >= 0)) throw new ArgumentException($"LayerNorm: eps must be non-negative, got {eps}");
        Dim = dim;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([dim], device));
            Bias = RegisterParameter("bias", Tensor.Zeros([dim], device));
        }
    }

    /// <summary>Size of the normalised last dimension.</summary>
    public int Dim { get; }

    /// <summary>Variance floor.</summary>
    public float Eps { get; }

    /// <summary>Scale [D], or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>Shift [D], or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank < 1 || x.Shape[-1] != Dim)
            throw new ArgumentException($"LayerNorm: expected last dimension {Dim}, got {x.Shape}");
        return F.LayerNorm(x, Weight, Bias, Eps);
    }
}
