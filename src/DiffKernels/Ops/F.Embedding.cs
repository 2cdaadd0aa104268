using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Sinusoidal timestep features: t [N] → [N, dim] with half = dim/2, fᵢ = exp(−ln(maxPeriod)·i/half)
    /// and rows [cos(t·f₀), …, cos(t·f_{half−1}), sin(t·f₀), …, sin(t·f_{half−1})]. Differentiable in t.
    /// </summary>
    public static Tensor TimestepEmbedding(Tensor t, int dim, float maxPeriod = 10000f)
    {
        const string op = "TimestepEmbedding";
        if (t.Rank != 1) throw new ArgumentException($"{op}: t must be [N], got {t.Shape}");
        if (dim < 2 || dim % 2 != 0) throw new ArgumentException($"{op}: dim must be a positive even number, got {dim}");
        if (!(maxPeriod > 0)) throw new ArgumentException($"{op}: maxPeriod must be positive, got {maxPeriod}");
        int n = t.Shape[0], half = dim / 2;
        var y = Tensor.Empty([n, dim], t.Device);
        t.Backend.TimestepEmbedding(t.Storage, y.Storage, n, half, maxPeriod);
        return Autograd.Graph.Record(y, "timestep_embedding", [t], dy =>
        {
            var dt = Tensor.Empty(t.Shape, t.Device);
            t.Backend.TimestepEmbeddingBackward(y.Storage, dy.Storage, dt.Storage, n, half, maxPeriod);
            return [dt];
        });
    }
}
