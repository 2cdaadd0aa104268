using DiffKernels.Tensors;
using static DiffKernels.Autograd.Graph;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Reorders the axes: output axis i is input axis <paramref name="perm"/>[i] (negative axes allowed). Materialises.</summary>
    public static Tensor Permute(Tensor x, params int[] perm)
    {
        if (perm.Length != x.Rank)
            throw new ArgumentException($"Permute: permutation [{string.Join(", ", perm)}] has {perm.Length} axes, shape {x.Shape} has {x.Rank}");
        var p = new int[perm.Length];
        var seen = new bool[perm.Length];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = x.Shape.Axis(perm[i], "Permute");
            if (seen[p[i]]) throw new ArgumentException($"Permute: axis {perm[i]} repeats in permutation [{string.Join(", ", perm)}] of shape {x.Shape}");
            seen[p[i]] = true;
        }
        var xs = x.Shape.Strides();
        var dims = new int[p.Length];
        var src = new long[p.Length];
        var inverse = new int[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            dims[i] = x.Shape[p[i]];
            src[i] = xs[p[i]];
            inverse[p[i]] = i;
        }
        var shape = new Shape(dims);
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.CopyStrided(x.Storage, 0, src, y.Storage, 0, shape.Strides(), shape);
        return Record(y, "permute", [x], dy => [Permute(dy, inverse)]);
    }

    /// <summary>Swaps two axes (negative axes allowed). Materialises.</summary>
    public static Tensor Transpose(Tensor x, int axis0, int axis1)
    {
        int a = x.Shape.Axis(axis0, "Transpose"), b = x.Shape.Axis(axis1, "Transpose");
        var perm = Enumerable.Range(0, x.Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>
    /// Elements [start, start + length) along <paramref name="axis"/>; a negative start counts from
    /// the end. The range must lie inside the axis. Materialises.
    /// </summary>
    public static Tensor Narrow(Tensor x, int axis, int start, int length)
    {
        int a = x.Shape.Axis(axis, "Narrow");
        int n = x.Shape[a];
        int s = start < 0 ? start + n : start;
        if (s < 0 || length < 0 || s + (long)length > n)
            throw new ArgumentException($"Narrow: start {start} and length {length} do not fit axis {axis} of size {n} in shape {x.Shape}");
        return StridedSlice(x, a, s, length, 1);
    }

    /// <summary>
    /// Elements start, start + step, ... before <paramref name="end"/> (exclusive) along
    /// <paramref name="axis"/>. Negative start/end count from the end; after that both must lie in
    /// [0, size] with start ≤ end (no silent clamping). Materialises.
    /// </summary>
    public static Tensor Slice(Tensor x, int axis, int start, int end, int step = 1)
    {
        int a = x.Shape.Axis(axis, "Slice");
        int n = x.Shape[a];
        if (step < 1) throw new ArgumentException($"Slice: step {step} must be at least 1 (axis {axis} of shape {x.Shape})");
        int s = start < 0 ? start + n : start, e = end < 0 ? end + n : end;
        if (s < 0 || e > n || s > e)
            throw new ArgumentException($"Slice: range [{start}, {end}) does not fit axis {axis} of size {n} in shape {x.Shape}");
        return StridedSlice(x, a, s, (e - s + step - 1) / step, step);
    }

    /// <summary>Copies <paramref name="count"/> elements start, start + step, ... of a normalised axis; backward scatters into zeros.</summary>
    private static Tensor StridedSlice(Tensor x, int axis, int start, int count, int step)
    {
        var shape = x.Shape.With(axis, count);
        var xs = x.Shape.Strides();
        var view = (long[])xs.Clone();
        view[axis] *= step;
        long offset = start * xs[axis];
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.CopyStrided(x.Storage, offset, view, y.Storage, 0, shape.Strides(), shape);
        return Record(y, "slice", [x], dy =>
        {
            var dx = Tensor.Zeros(x.Shape, x.Device);
            x.Backend.CopyStrided(dy.Storage, 0, shape.Strides(), dx.Storage, offset, view, shape);
            return [dx];
        });
    }

    /// <summary>Joins tensors along <paramref name="axis"/>; all other dimensions must agree. Materialises.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat: no tensors given");
        var first = xs[0];
        int a = first.Shape.Axis(axis, "Concat");
        long total = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            var t = xs[i];
            bool same = t.Rank == first.Rank;
            for (int k = 0; same && k < t.Rank; k++) same = k == a || t.Shape[k] == first.Shape[k];
            if (!same)
                throw new ArgumentException($"Concat: tensor {i} of shape {t.Shape} does not match tensor 0 of shape {first.Shape} outside axis {axis}");
            total += t.Shape[a];
        }
        if (total > int.MaxValue) throw new ArgumentException($"Concat: axis {axis} would have {total} elements");
        SameDevice("Concat", [.. xs]);
        var shape = first.Shape.With(a, (int)total);
        var ys = shape.Strides();
        var y = Tensor.Empty(shape, first.Device);
        var starts = new int[xs.Count];
        int at = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            starts[i] = at;
            first.Backend.CopyStrided(xs[i].Storage, 0, xs[i].Shape.Strides(), y.Storage, at * ys[a], ys, xs[i].Shape);
            at += xs[i].Shape[a];
        }
        var inputs = xs.ToArray();
        return Record(y, "concat", inputs, dy =>
        {
            var g = new Tensor?[inputs.Length];
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].RequiresGrad) g[i] = Narrow(dy, a, starts[i], inputs[i].Shape[a]);
            return g;
        });
    }

    /// <summary>Cuts <paramref name="x"/> along <paramref name="axis"/> into pieces of the given sizes (they must add up to the axis size).</summary>
    public static Tensor[] Split(Tensor x, int[] sizes, int axis)
    {
        int a = x.Shape.Axis(axis, "Split");
        long sum = 0;
        foreach (var s in sizes)
        {
            if (s < 0) throw new ArgumentException($"Split: negative size in [{string.Join(", ", sizes)}] for shape {x.Shape}");
            sum += s;
        }
        if (sum != x.Shape[a])
            throw new ArgumentException($"Split: sizes [{string.Join(", ", sizes)}] add up to {sum}, axis {axis} of shape {x.Shape} has {x.Shape[a]}");
        var pieces = new Tensor[sizes.Length];
        int at = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            pieces[i] = StridedSlice(x, a, at, sizes[i], 1);
            at += sizes[i];
        }
        return pieces;
    }

    /// <summary>
    /// Cuts <paramref name="x"/> along <paramref name="axis"/> into pieces of ⌈size/n⌉; the last may be
    /// smaller and there may be fewer than <paramref name="n"/> pieces (as in PyTorch).
    /// </summary>
    public static Tensor[] Chunk(Tensor x, int n, int axis)
    {
        int a = x.Shape.Axis(axis, "Chunk");
        if (n < 1) throw new ArgumentException($"Chunk: chunk count {n} must be at least 1 (shape {x.Shape})");
        int size = x.Shape[a];
        int step = (size + n - 1) / n;
        if (step == 0) return [StridedSlice(x, a, 0, 0, 1)];
        var sizes = new int[(size + step - 1) / step];
        for (int i = 0; i < sizes.Length; i++) sizes[i] = Math.Min(step, size - i * step);
        return Split(x, sizes, a);
    }

    /// <summary>Removes <paramref name="axis"/>, which must have size 1 (a reshape, shares memory).</summary>
    public static Tensor Squeeze(Tensor x, int axis)
    {
        int a = x.Shape.Axis(axis, "Squeeze");
        if (x.Shape[a] != 1) throw new ArgumentException($"Squeeze: axis {axis} of shape {x.Shape} has size {x.Shape[a]}, expected 1");
        var dims = x.Shape.ToArray().ToList();
        dims.RemoveAt(a);
        return Reshape(x, [.. dims]);
    }

    /// <summary>Inserts an axis of size 1 at <paramref name="axis"/> (in [−rank−1, rank]); a reshape, shares memory.</summary>
    public static Tensor Unsqueeze(Tensor x, int axis)
    {
        int a = axis < 0 ? axis + x.Rank + 1 : axis;
        if (a < 0 || a > x.Rank) throw new ArgumentException($"Unsqueeze: axis {axis} is out of range for shape {x.Shape}");
        if (x.Rank == Shape.MaxRank) throw new ArgumentException($"Unsqueeze: shape {x.Shape} already has the maximum rank {Shape.MaxRank}");
        var dims = x.Shape.ToArray().ToList();
        dims.Insert(a, 1);
        return Reshape(x, [.. dims]);
    }

    /// <summary>Merges axes <paramref name="startAxis"/>..<paramref name="endAxis"/> (inclusive) into one; a reshape, shares memory.</summary>
    public static Tensor Flatten(Tensor x, int startAxis = 0, int endAxis = -1)
    {
        if (x.Rank == 0) return Reshape(x, 1);
        int s = x.Shape.Axis(startAxis, "Flatten"), e = x.Shape.Axis(endAxis, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: start axis {startAxis} comes after end axis {endAxis} in shape {x.Shape}");
        var dims = new List<int>();
        for (int i = 0; i < s; i++) dims.Add(x.Shape[i]);
        dims.Add((int)x.Shape.Prod(s, e + 1));
        for (int i = e + 1; i < x.Rank; i++) dims.Add(x.Shape[i]);
        return Reshape(x, [.. dims]);
    }
}
