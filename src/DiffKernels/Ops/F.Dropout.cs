using DiffKernels.Backends;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Inverted dropout: each element is kept with probability 1 − <paramref name="p"/> and scaled by
    /// 1/(1 − p), so the expected value is unchanged; element i is kept when u_i ≥ p, with u drawn by
    /// <paramref name="gen"/>.Uniform over x's shape (advancing it by ⌈numel/4⌉ blocks). The backward
    /// multiplies dy by the same mask. Returns <paramref name="x"/> itself, drawing nothing, when
    /// <paramref name="training"/> is false or p = 0.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, Generator gen, bool training = true)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentException($"Dropout: probability p = {p} must be in [0, 1) (input shape {x.Shape})", nameof(p));
        ArgumentNullException.ThrowIfNull(gen);
        if (!training || p == 0) return x;

        Tensor mask;
        using (var u = gen.Uniform(x.Shape, x.Device))
        using (var threshold = Tensor.Scalar(p, x.Device))
        {
            // scale − scale·[p > u] = scale·[u ≥ p]
            float scale = 1f / (1f - p);
            mask = BinaryRaw(BinaryOp.Greater, threshold, u, "Dropout");
            x.Backend.Unary(UnaryOp.MulScalar, mask.Storage, mask.Storage, mask.Numel, -scale, 0);
            x.Backend.Unary(UnaryOp.AddScalar, mask.Storage, mask.Storage, mask.Numel, scale, 0);
        }
        var y = BinaryRaw(BinaryOp.Mul, x, mask, "Dropout");
        if (!Autograd.Graph.Needs(x))
        {
            mask.Dispose();
            return y;
        }
        return Autograd.Graph.Record(y, "dropout", [x], dy => [Mul(dy, mask)]);
    }
}
