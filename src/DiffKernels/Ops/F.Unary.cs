using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Applies a unary op and records its backward (dx = dy·op′(x)).</summary>
    public static Tensor Unary(UnaryOp op, Tensor x, float alpha = 0f, float beta = 0f)
    {
        var y = Tensor.Empty(x.Shape, x.Device);
        x.Backend.Unary(op, x.Storage, y.Storage, x.Numel, alpha, beta);
        return Autograd.Graph.Record(y, op.ToString().ToLowerInvariant(), [x], dy =>
        {
            var dx = Tensor.Empty(x.Shape, x.Device);
            x.Backend.UnaryBackward(op, x.Storage, y.Storage, dy.Storage, dx.Storage, x.Numel, alpha, beta);
            return [dx];
        });
    }

    /// <summary>−x.</summary>
    public static Tensor Neg(Tensor x) => Unary(UnaryOp.Neg, x);

    /// <summary>eˣ.</summary>
    public static Tensor Exp(Tensor x) => Unary(UnaryOp.Exp, x);

    /// <summary>ln x.</summary>
    public static Tensor Log(Tensor x) => Unary(UnaryOp.Log, x);

    /// <summary>√x.</summary>
    public static Tensor Sqrt(Tensor x) => Unary(UnaryOp.Sqrt, x);

    /// <summary>1/√x.</summary>
    public static Tensor Rsqrt(Tensor x) => Unary(UnaryOp.Rsqrt, x);

    /// <summary>|x| (subgradient 0 at 0).</summary>
    public static Tensor Abs(Tensor x) => Unary(UnaryOp.Abs, x);

    /// <summary>x².</summary>
    public static Tensor Square(Tensor x) => Unary(UnaryOp.Square, x);

    /// <summary>max(x, 0).</summary>
    public static Tensor Relu(Tensor x) => Unary(UnaryOp.Relu, x);

    /// <summary>x for x &gt; 0, else slope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, float slope = 0.2f) => Unary(UnaryOp.LeakyRelu, x, slope);

    /// <summary>x·σ(x).</summary>
    public static Tensor Silu(Tensor x) => Unary(UnaryOp.Silu, x);

    /// <summary>Exact GELU x·Φ(x).</summary>
    public static Tensor Gelu(Tensor x) => Unary(UnaryOp.Gelu, x);

    /// <summary>Logistic sigmoid.</summary>
    public static Tensor Sigmoid(Tensor x) => Unary(UnaryOp.Sigmoid, x);

    /// <summary>tanh x.</summary>
    public static Tensor Tanh(Tensor x) => Unary(UnaryOp.Tanh, x);

    /// <summary>ln(1 + eˣ), stable for large |x|.</summary>
    public static Tensor Softplus(Tensor x) => Unary(UnaryOp.Softplus, x);

    /// <summary>x + s.</summary>
    public static Tensor AddScalar(Tensor x, float s) => Unary(UnaryOp.AddScalar, x, s);

    /// <summary>s·x.</summary>
    public static Tensor MulScalar(Tensor x, float s) => Unary(UnaryOp.MulScalar, x, s);

    /// <summary>x^p for a scalar exponent.</summary>
    public static Tensor Pow(Tensor x, float p) => Unary(UnaryOp.PowScalar, x, p);

    /// <summary>min(max(x, lo), hi); the gradient passes where lo ≤ x ≤ hi.</summary>
    public static Tensor Clamp(Tensor x, float lo, float hi)
    {
        if (lo > hi) throw new ArgumentException($"Clamp: lo {lo} is greater than hi {hi}");
        return Unary(UnaryOp.Clamp, x, lo, hi);
    }
}
