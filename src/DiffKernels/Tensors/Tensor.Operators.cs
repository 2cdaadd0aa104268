using DiffKernels.Ops;

namespace DiffKernels.Tensors;

public sealed partial class Tensor
{
    /// <summary>Broadcasting addition.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => F.Add(a, b);

    /// <summary>Broadcasting subtraction.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => F.Sub(a, b);

    /// <summary>Broadcasting multiplication.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => F.Mul(a, b);

    /// <summary>Broadcasting division.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => F.Div(a, b);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, float s) => F.AddScalar(a, s);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(float s, Tensor a) => F.AddScalar(a, s);

    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, float s) => F.AddScalar(a, -s);

    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(float s, Tensor a) => F.AddScalar(F.MulScalar(a, -1f), s);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, float s) => F.MulScalar(a, s);

    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(float s, Tensor a) => F.MulScalar(a, s);

    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, float s) => F.MulScalar(a, 1f / s);

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => F.MulScalar(a, -1f);

    /// <summary>A view with a new shape (one dimension may be −1); shares memory.</summary>
    public Tensor Reshape(params int[] shape) => F.Reshape(this, shape);

    /// <summary>Sum over the given axes (all when none).</summary>
    public Tensor Sum(int[]? axes = null, bool keepDim = false) => F.Sum(this, axes, keepDim);

    /// <summary>Mean over the given axes (all when none).</summary>
    public Tensor Mean(int[]? axes = null, bool keepDim = false) => F.Mean(this, axes, keepDim);
}
