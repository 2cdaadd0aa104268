using System.Numerics.Tensors;
using DiffKernels.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        var av = ((CpuBuffer)a).Data;
        var bv = ((CpuBuffer)b).Data;
        var yv = ((CpuBuffer)y).Data;
        var (dims, sa, sb) = Coalesce(shape, aStrides, bStrides);
        int r = dims.Length;
        int inner = dims[r - 1];
        long ia = sa[r - 1], ib = sb[r - 1];
        long rows = shape.Numel / Math.Max(1, inner);
        if (shape.Numel == 0) return;
        CpuParallel.For(rows, inner, (start, end) =>
        {
            for (long row = start; row < end; row++)
            {
                long oa = 0, ob = 0, rem = row;
                for (int k = r - 2; k >= 0; k--)
                {
                    long ik = rem % dims[k];
                    rem /= dims[k];
                    oa += ik * sa[k];
                    ob += ik * sb[k];
                }
                var yr = yv.AsSpan((int)(row * inner), inner);
                BinaryRow(op, av, oa, ia, bv, ob, ib, yr);
            }
        });
    }

    private static void BinaryRow(BinaryOp op, CpuFloats a, long oa, long ia, CpuFloats b, long ob, long ib, Span<float> y)
    {
        int n = y.Length;
        if (ia == 1 && ib == 1)
        {
            ReadOnlySpan<float> x = a.AsSpan((int)oa, n), z = b.AsSpan((int)ob, n);
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(x, z, y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(x, z, y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(x, z, y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(x, z, y); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(x, z, y); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(x, z, y); return;
            }
        }
        else if (ia == 1 && ib == 0)
        {
            ReadOnlySpan<float> x = a.AsSpan((int)oa, n);
            float s = b[ob];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(x, s, y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(x, s, y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(x, s, y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(x, s, y); return;
            }
        }
        else if (ia == 0 && ib == 1)
        {
            float s = a[oa];
            ReadOnlySpan<float> z = b.AsSpan((int)ob, n);
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(z, s, y); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(s, z, y); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(z, s, y); return;
                case BinaryOp.Div: TensorPrimitives.Divide(s, z, y); return;
            }
        }
        for (int i = 0; i < n; i++)
            y[i] = Apply(op, a[oa + i * ia], b[ob + i * ib]);
    }

    /// <summary>The scalar definition of each binary op (the reference the fast paths must match).</summary>
    internal static float Apply(BinaryOp op, float x, float z) => op switch
    {
        BinaryOp.Add => x + z,
        BinaryOp.Sub => x - z,
        BinaryOp.Mul => x * z,
        BinaryOp.Div => x / z,
        BinaryOp.Pow => MathF.Pow(x, z),
        BinaryOp.Maximum => MathF.Max(x, z),
        BinaryOp.Minimum => MathF.Min(x, z),
        BinaryOp.Equal => x == z ? 1f : 0f,
        BinaryOp.Greater => x > z ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Merges adjacent dimensions that are contiguous for both operands, so kernels see long rows.</summary>
    private static (int[] dims, long[] sa, long[] sb) Coalesce(Shape shape, long[] aStrides, long[] bStrides)
    {
        var dims = new List<int>();
        var sa = new List<long>();
        var sb = new List<long>();
        for (int k = 0; k < shape.Rank; k++)
        {
            if (shape[k] == 1) continue;
            int last = dims.Count - 1;
            if (last >= 0 && sa[last] == aStrides[k] * shape[k] && sb[last] == bStrides[k] * shape[k])
            {
                dims[last] *= shape[k];
                sa[last] = aStrides[k];
                sb[last] = bStrides[k];
            }
            else
            {
                dims.Add(shape[k]);
                sa.Add(aStrides[k]);
                sb.Add(bStrides[k]);
            }
        }
        if (dims.Count == 0) return ([1], [0], [0]);
        return (dims.ToArray(), sa.ToArray(), sb.ToArray());
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, long outer, long reduce, long inner)
    {
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        if (inner == 1)
        {
            CpuParallel.For(outer, reduce, (s, e) =>
            {
                for (long o = s; o < e; o++)
                {
                    ReadOnlySpan<float> row = xv.AsSpan((int)(o * reduce), (int)reduce);
                    yv[o] = reduce == 0 ? Identity(op) : op switch
                    {
                        ReduceOp.Sum => TensorPrimitives.Sum(row),
                        ReduceOp.Max => TensorPrimitives.Max(row),
                        _ => TensorPrimitives.Min(row),
                    };
                }
            });
            return;
        }
        // Rows of `inner` contiguous values are combined vector-wise; chunks of inner parallelise
        // the case of a single outer (e.g. summing a bias gradient over the batch).
        const int chunk = 1024;
        long chunks = (inner + chunk - 1) / chunk;
        CpuParallel.For(outer * chunks, reduce * Math.Min(inner, chunk), (s, e) =>
        {
            for (long t = s; t < e; t++)
            {
                long o = t / chunks, c0 = t % chunks * chunk;
                int len = (int)Math.Min(chunk, inner - c0);
                var acc = yv.AsSpan((int)(o * inner + c0), len);
                if (reduce == 0) { acc.Fill(Identity(op)); continue; }
                xv.AsSpan((int)(o * reduce * inner + c0), len).CopyTo(acc);
                for (long r = 1; r < reduce; r++)
                {
                    ReadOnlySpan<float> row = xv.AsSpan((int)((o * reduce + r) * inner + c0), len);
                    switch (op)
                    {
                        case ReduceOp.Sum: TensorPrimitives.Add(acc, row, acc); break;
                        case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                        default: TensorPrimitives.Min(acc, row, acc); break;
                    }
                }
            }
        });
    }

    private static float Identity(ReduceOp op) => op switch
    {
        ReduceOp.Sum => 0f,
        ReduceOp.Max => float.NegativeInfinity,
        _ => float.PositiveInfinity,
    };
}
