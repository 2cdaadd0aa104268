using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    // Strided (inner > 1) layouts are processed as columns of this many contiguous values, so every
    // step along the softmax axis is a vector operation over a row segment.
    private const int SoftmaxChunk = 512;

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, long outer, long axis, long inner, bool log)
    {
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        if (inner == 1)
        {
            CpuParallel.For(outer, axis * 4, (s, e) =>
            {
                for (long o = s; o < e; o++)
                {
                    ReadOnlySpan<float> xr = xv.AsSpan((int)(o * axis), (int)axis);
                    var yr = yv.AsSpan((int)(o * axis), (int)axis);
                    float max = TensorPrimitives.Max(xr);
                    TensorPrimitives.Subtract(xr, max, yr);
                    TensorPrimitives.Exp(yr, yr);
                    float sum = TensorPrimitives.Sum<float>(yr);
                    if (log) TensorPrimitives.Subtract(xr, max + MathF.Log(sum), yr);
                    else TensorPrimitives.Multiply(yr, 1f / sum, yr);
                }
            });
            return;
        }
        long chunks = (inner + SoftmaxChunk - 1) / SoftmaxChunk;
        CpuParallel.For(outer * chunks, axis * Math.Min(inner, SoftmaxChunk) * 4, (s, e) =>
        {
            var max = new float[SoftmaxChunk];
            var sum = new float[SoftmaxChunk];
            for (long t = s; t < e; t++)
            {
                long o = t / chunks, c0 = t % chunks * SoftmaxChunk;
                int len = (int)Math.Min(SoftmaxChunk, inner - c0);
                var m = max.AsSpan(0, len);
                var z = sum.AsSpan(0, len);
                long Row(long r) => (o * axis + r) * inner + c0;
                xv.AsSpan((int)Row(0), len).CopyTo(m);
                for (long r = 1; r < axis; r++) TensorPrimitives.Max(m, xv.AsSpan((int)Row(r), len), m);
                z.Clear();
                for (long r = 0; r < axis; r++)
                {
                    var yr = yv.AsSpan((int)Row(r), len);
                    TensorPrimitives.Subtract(xv.AsSpan((int)Row(r), len), m, yr);
                    TensorPrimitives.Exp(yr, yr);
                    TensorPrimitives.Add(z, yr, z);
                }
                if (log)
                {
                    // m becomes the log-sum-exp of each column: y = x − lse.
                    TensorPrimitives.Log(z, z);
                    TensorPrimitives.Add(m, z, m);
                    for (long r = 0; r < axis; r++)
                        TensorPrimitives.Subtract(xv.AsSpan((int)Row(r), len), m, yv.AsSpan((int)Row(r), len));
                }
                else
                {
                    TensorPrimitives.Reciprocal(z, z);
                    for (long r = 0; r < axis; r++)
                    {
                        var yr = yv.AsSpan((int)Row(r), len);
                        TensorPrimitives.Multiply(yr, z, yr);
                    }
                }
            }
        });
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long outer, long axis, long inner, bool log)
    {
        var yv = ((CpuBuffer)y).Data;
        var gv = ((CpuBuffer)dy).Data;
        var dv = ((CpuBuffer)dx).Data;
        if (inner == 1)
        {
            CpuParallel.For(outer, axis * 3, (s, e) =>
            {
                for (long o = s; o < e; o++)
                {
                    ReadOnlySpan<float> yr = yv.AsSpan((int)(o * axis), (int)axis);
                    ReadOnlySpan<float> gr = gv.AsSpan((int)(o * axis), (int)axis);
                    var dr = dv.AsSpan((int)(o * axis), (int)axis);
                    if (log)
                    {
                        float g = TensorPrimitives.Sum(gr);
                        TensorPrimitives.Exp(yr, dr);
                        TensorPrimitives.MultiplyAdd(dr, -g, gr, dr);
                    }
                    else
                    {
                        float g = TensorPrimitives.Dot(gr, yr);
                        TensorPrimitives.Subtract(gr, g, dr);
                        TensorPrimitives.Multiply(dr, yr, dr);
                    }
                }
            });
            return;
        }
        long chunks = (inner + SoftmaxChunk - 1) / SoftmaxChunk;
        CpuParallel.For(outer * chunks, axis * Math.Min(inner, SoftmaxChunk) * 3, (s, e) =>
        {
            var acc = new float[SoftmaxChunk];
            var tmp = new float[SoftmaxChunk];
            for (long t = s; t < e; t++)
            {
                long o = t / chunks, c0 = t % chunks * SoftmaxChunk;
                int len = (int)Math.Min(SoftmaxChunk, inner - c0);
                var g = acc.AsSpan(0, len);
                var p = tmp.AsSpan(0, len);
                long Row(long r) => (o * axis + r) * inner + c0;
                g.Clear();
                for (long r = 0; r < axis; r++)
                {
                    ReadOnlySpan<float> gr = gv.AsSpan((int)Row(r), len);
                    if (log) TensorPrimitives.Add(g, gr, g);
                    else
                    {
                        TensorPrimitives.Multiply(gr, yv.AsSpan((int)Row(r), len), p);
                        TensorPrimitives.Add(g, p, g);
                    }
                }
                for (long r = 0; r < axis; r++)
                {
                    ReadOnlySpan<float> yr = yv.AsSpan((int)Row(r), len);
                    ReadOnlySpan<float> gr = gv.AsSpan((int)Row(r), len);
                    var dr = dv.AsSpan((int)Row(r), len);
                    if (log)
                    {
                        TensorPrimitives.Exp(yr, p);
                        TensorPrimitives.Multiply(p, g, p);
                        TensorPrimitives.Subtract(gr, p, dr);
                    }
                    else
                    {
                        TensorPrimitives.Subtract(gr, g, dr);
                        TensorPrimitives.Multiply(dr, yr, dr);
                    }
                }
            }
        });
    }
}
