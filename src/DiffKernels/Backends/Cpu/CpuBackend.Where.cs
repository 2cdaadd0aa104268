using DiffKernels.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Where(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        if (shape.Numel == 0) return;
        var cv = ((CpuBuffer)cond).Data;
        var av = ((CpuBuffer)a).Data;
        var bv = ((CpuBuffer)b).Data;
        var yv = ((CpuBuffer)y).Data;
        int r = shape.Rank;
        // Rank 0 is one row of one element; otherwise rows run along the last axis.
        int inner = r == 0 ? 1 : shape[r - 1];
        long ic = r == 0 ? 0 : condStrides[r - 1], ia = r == 0 ? 0 : aStrides[r - 1], ib = r == 0 ? 0 : bStrides[r - 1];
        long rows = shape.Numel / inner;
        CpuParallel.For(rows, inner, (start, end) =>
        {
            for (long row = start; row < end; row++)
            {
                long oc = 0, oa = 0, ob = 0, rem = row;
                for (int k = r - 2; k >= 0; k--)
                {
                    long ik = rem % shape[k];
                    rem /= shape[k];
                    oc += ik * condStrides[k];
                    oa += ik * aStrides[k];
                    ob += ik * bStrides[k];
                }
                long oy = row * inner;
                for (int i = 0; i < inner; i++)
                    yv[oy + i] = cv[oc + i * ic] != 0f ? av[oa + i * ia] : bv[ob + i * ib];
            }
        });
    }
}
