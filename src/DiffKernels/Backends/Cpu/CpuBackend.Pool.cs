using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

// Upsampling and average pooling are adjoint up to a scale: each pair shares one spread and one
// block-sum routine.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Upsample2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c) =>
        Spread2x(((CpuBuffer)x).Data, ((CpuBuffer)y).Data, n, h, w, c, 1f);

    /// <inheritdoc/>
    public void Upsample2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c) =>
        BlockSum2x(((CpuBuffer)dy).Data, ((CpuBuffer)dx).Data, n, h, w, c, 1f);

    /// <inheritdoc/>
    public void AvgPool2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c) =>
        BlockSum2x(((CpuBuffer)x).Data, ((CpuBuffer)y).Data, n, h / 2, w / 2, c, 0.25f);

    /// <inheritdoc/>
    public void AvgPool2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c) =>
        Spread2x(((CpuBuffer)dy).Data, ((CpuBuffer)dx).Data, n, h / 2, w / 2, c, 0.25f);

    /// <summary>dst [n, 2h, 2w, c] = scale · src [n, h, w, c] repeated over each 2×2 block.</summary>
    private static void Spread2x(CpuFloats src, CpuFloats dst, int n, int h, int w, int c, float scale)
    {
        int rowOut = 2 * w * c;
        CpuParallel.For((long)n * h, 2L * rowOut, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                var top = dst.AsSpan((int)(2 * r * rowOut), rowOut);
                for (int j = 0; j < w; j++)
                {
                    ReadOnlySpan<float> px = src.AsSpan((int)((r * w + j) * c), c);
                    TensorPrimitives.Multiply(px, scale, top.Slice(2 * j * c, c));
                    top.Slice(2 * j * c, c).CopyTo(top.Slice((2 * j + 1) * c, c));
                }
                top.CopyTo(dst.AsSpan((int)((2 * r + 1) * rowOut), rowOut));
            }
        });
    }

    /// <summary>dst [n, h, w, c] = scale · the sum of each 2×2 block of src [n, 2h, 2w, c].</summary>
    private static void BlockSum2x(CpuFloats src, CpuFloats dst, int n, int h, int w, int c, float scale)
    {
        int rowIn = 2 * w * c;
        CpuParallel.For((long)n * h, 2L * rowIn, (s, e) =>
        {
            for (long r = s; r < e; r++)
            {
                ReadOnlySpan<float> top = src.AsSpan((int)(2 * r * rowIn), rowIn);
                ReadOnlySpan<float> bottom = src.AsSpan((int)((2 * r + 1) * rowIn), rowIn);
                for (int j = 0; j < w; j++)
                {
                    var o = dst.AsSpan((int)((r * w + j) * c), c);
                    TensorPrimitives.Add(top.Slice(2 * j * c, c), top.Slice((2 * j + 1) * c, c), o);
                    TensorPrimitives.Add(o, bottom.Slice(2 * j * c, c), o);
                    TensorPrimitives.Add(o, bottom.Slice((2 * j + 1) * c, c), o);
                    if (scale != 1f) TensorPrimitives.Multiply(o, scale, o);
                }
            }
        });
    }
}
