using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Maximum over <paramref name="axes"/> (all axes when null or empty); tied maxima share the gradient evenly.</summary>
    public static Tensor Max(Tensor x, int[]? axes = null, bool keepDim = false) => Extremum(ReduceOp.Max, x, axes, keepDim, "Max");

    /// <summary>Minimum over <paramref name="axes"/> (all axes when null or empty); tied minima share the gradient evenly.</summary>
    public static Tensor Min(Tensor x, int[]? axes = null, bool keepDim = false) => Extremum(ReduceOp.Min, x, axes, keepDim, "Min");

    private static Tensor Extremum(ReduceOp op, Tensor x, int[]? axes, bool keepDim, string name)
    {
        var (ax, kept, outShape) = ReduceShapes(x.Shape, axes, keepDim, name);
        foreach (var a in ax)
            if (x.Shape[a] == 0) throw new ArgumentException($"{name}: axis {a} of shape {x.Shape} is empty");
        var y = ReduceRaw(op, x, ax).Rewrap(outShape);
        var keptDims = kept.ToArray();
        return Autograd.Graph.Record(y, name.ToLowerInvariant(), [x], dy =>
        {
            // Every element equal to its slice's extremum gets dy / (number of such elements).
            var hit = Equal(x, Reshape(y, keptDims));
            var count = Sum(hit, ax, keepDim: true);
            return [Mul(hit, Div(Reshape(dy, keptDims), count))];
        });
    }
}
