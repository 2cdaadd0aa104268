using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>Plain double-precision reference helpers (index arithmetic spelled out, no cleverness).</summary>
public static class Ref
{
    /// <summary>Multi-index of flat index <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    public static int[] Unravel(long flat, Shape shape)
    {
        var idx = new int[shape.Rank];
        for (int k = shape.Rank - 1; k >= 0; k--)
        {
            idx[k] = (int)(flat % shape[k]);
            flat /= shape[k];
        }
        return idx;
    }

    /// <summary>Flat index in <paramref name="shape"/> of the (right-aligned, broadcast) multi-index.</summary>
    public static long Ravel(int[] idx, Shape shape)
    {
        long flat = 0;
        int off = idx.Length - shape.Rank;
        for (int k = 0; k < shape.Rank; k++)
            flat = flat * shape[k] + (shape[k] == 1 ? 0 : idx[k + off]);
        return flat;
    }

    /// <summary>Elementwise f(a, b) with NumPy broadcasting.</summary>
    public static double[] Broadcast(double[] a, Shape sa, double[] b, Shape sb, Func<double, double, double> f)
    {
        var so = Shape.Broadcast(sa, sb, "ref");
        var y = new double[so.Numel];
        for (long i = 0; i < y.Length; i++)
        {
            var idx = Unravel(i, so);
            y[i] = f(a[Ravel(idx, sa)], b[Ravel(idx, sb)]);
        }
        return y;
    }

    /// <summary>Reduction over axes (keep-dim layout flattened) with an accumulator.</summary>
    public static double[] Reduce(double[] x, Shape s, int[] axes, Func<double, double, double> f, double init)
    {
        var kept = s.ToArray();
        foreach (var a in axes) kept[a] = 1;
        var ks = new Shape(kept);
        var y = Enumerable.Repeat(init, (int)ks.Numel).ToArray();
        for (long i = 0; i < x.Length; i++)
        {
            var idx = Unravel(i, s);
            foreach (var a in axes) idx[a] = 0;
            long o = Ravel(idx, ks);
            y[o] = f(y[o], x[i]);
        }
        return y;
    }
}
