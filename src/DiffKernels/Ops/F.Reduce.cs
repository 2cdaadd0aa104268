using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Sum over <paramref name="axes"/> (all axes when null or empty).</summary>
    public static Tensor Sum(Tensor x, int[]? axes = null, bool keepDim = false)
    {
        var (ax, kept, outShape) = ReduceShapes(x.Shape, axes, keepDim, "Sum");
        var y = ReduceRaw(ReduceOp.Sum, x, ax).Rewrap(outShape);
        return Autograd.Graph.Record(y, "sum", [x], dy => [BroadcastTo(Reshape(dy, kept.ToArray()), x.Shape)]);
    }

    /// <summary>Mean over <paramref name="axes"/> (all axes when null or empty).</summary>
    public static Tensor Mean(Tensor x, int[]? axes = null, bool keepDim = false)
    {
        var (ax, _, _) = ReduceShapes(x.Shape, axes, keepDim, "Mean");
        long count = 1;
        foreach (var a in ax) count *= x.Shape[a];
        return MulScalar(Sum(x, axes, keepDim), count == 0 ? float.NaN : 1f / count);
    }

    /// <summary>Sums a broadcast gradient back to <paramref name="shape"/> (the adjoint of broadcasting).</summary>
    public static Tensor SumToShape(Tensor g, Shape shape)
    {
        if (g.Shape == shape) return g;
        int lead = g.Rank - shape.Rank;
        var axes = new List<int>();
        for (int i = 0; i < g.Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && g.Shape[i] != 1)) axes.Add(i);
        return Reshape(Sum(g, [.. axes]), shape.ToArray());
    }

    /// <summary>
    /// Normalised sorted axes, the keep-dim shape and the output shape of a reduction.
    /// </summary>
    internal static (int[] axes, Shape kept, Shape output) ReduceShapes(Shape s, int[]? axes, bool keepDim, string op)
    {
        var ax = axes == null || axes.Length == 0
            ? Enumerable.Range(0, s.Rank).ToArray()
            : axes.Select(a => s.Axis(a, op)).Distinct().Order().ToArray();
        var kept = s.ToArray();
        foreach (var a in ax) kept[a] = 1;
        var output = keepDim ? kept : s.ToArray().Where((_, i) => !ax.Contains(i)).ToArray();
        return (ax, new Shape(kept), new Shape(output));
    }

    /// <summary>Reduces over sorted axes without recording; the result has the keep-dim shape.</summary>
    internal static Tensor ReduceRaw(ReduceOp op, Tensor x, int[] axes)
    {
        var cur = x;
        var dims = x.Shape.ToArray();
        // Runs of adjacent axes collapse into one (outer, reduce, inner) pass; runs go last to first.
        int i = axes.Length - 1;
        while (i >= 0)
        {
            int hi = axes[i], lo = hi;
            while (i > 0 && axes[i - 1] == lo - 1) { lo--; i--; }
            i--;
            var sh = new Shape(dims);
            long outer = sh.Prod(0, lo), red = sh.Prod(lo, hi + 1), inner = sh.Prod(hi + 1, sh.Rank);
            for (int k = lo; k <= hi; k++) dims[k] = 1;
            var next = Tensor.Empty(new Shape(dims), x.Device);
            x.Backend.Reduce(op, cur.Storage, next.Storage, outer, red, inner);
            if (!ReferenceEquals(cur, x)) cur.Dispose();
            cur = next;
        }
        return ReferenceEquals(cur, x) ? CopyRaw(x) : cur;
    }
}
