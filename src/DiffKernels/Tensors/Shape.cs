using System.Collections;
using System.Runtime.CompilerServices;

namespace DiffKernels.Tensors;

/// <summary>An immutable tensor shape of rank 0–5 (row-major, contiguous). Collection expressions build it: <c>[2, 3]</c>.</summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    /// <summary>The largest rank a tensor may have.</summary>
    public const int MaxRank = 5;

    private readonly int[]? _dims;

    /// <summary>Creates a shape from its dimensions; each must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        if (dims.Length > MaxRank)
            throw new ArgumentException($"shape [{string.Join(", ", dims)}]: rank {dims.Length} exceeds the maximum {MaxRank}");
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"shape [{string.Join(", ", dims)}]: negative dimension");
        _dims = (int[])dims.Clone();
    }

    /// <summary>Builds a shape from a span (collection expressions).</summary>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims.ToArray());

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            if (_dims != null) foreach (var d in _dims) n *= d;
            return n;
        }
    }

    /// <summary>Dimension <paramref name="i"/>; negative indices count from the end.</summary>
    public int this[int i] => _dims![i < 0 ? i + Rank : i];

    /// <summary>Number of dimensions (IReadOnlyList).</summary>
    public int Count => Rank;

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => _dims == null ? [] : (int[])_dims.Clone();

    /// <summary>Normalises a possibly negative axis, throwing with the op name when it is out of range.</summary>
    public int Axis(int axis, string op)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ArgumentException($"{op}: axis {axis} is out of range for shape {this}");
        return a;
    }

    /// <summary>Row-major strides in elements.</summary>
    public long[] Strides()
    {
        var s = new long[Rank];
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= _dims![i]; }
        return s;
    }

    /// <summary>Product of the dimensions in [start, end).</summary>
    public long Prod(int start, int end)
    {
        long p = 1;
        for (int i = start; i < end; i++) p *= _dims![i];
        return p;
    }

    /// <summary>This shape with dimension <paramref name="axis"/> replaced.</summary>
    public Shape With(int axis, int value)
    {
        var d = ToArray();
        d[axis] = value;
        return new Shape(d);
    }

    /// <summary>NumPy broadcasting of two shapes; the op name appears in the error.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        int r = Math.Max(a.Rank, b.Rank);
        var d = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i < r - a.Rank ? 1 : a[i - (r - a.Rank)];
            int db = i < r - b.Rank ? 1 : b[i - (r - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {a} and {b} cannot be broadcast together");
            d[i] = da == 1 ? db : da;
        }
        return new Shape(d);
    }

    /// <summary>Strides of this shape seen through <paramref name="target"/> by broadcasting (0 on broadcast dims).</summary>
    public long[] BroadcastStrides(Shape target)
    {
        var s = new long[target.Rank];
        var own = Strides();
        int off = target.Rank - Rank;
        for (int i = 0; i < Rank; i++)
            s[i + off] = this[i] == 1 && target[i + off] != 1 ? 0 : own[i];
        return s;
    }

    /// <inheritdoc/>
    public bool Equals(Shape other)
    {
        if (Rank != other.Rank) return false;
        for (int i = 0; i < Rank; i++) if (this[i] != other[i]) return false;
        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        for (int i = 0; i < Rank; i++) h.Add(this[i]);
        return h.ToHashCode();
    }

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Formats as "[2, 3, 4]".</summary>
    public override string ToString() => "[" + string.Join(", ", ToArray()) + "]";

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)ToArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Implicit conversion from an int array.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);
}
