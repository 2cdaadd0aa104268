using DiffKernels.Backends;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta,
        DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        if (m <= 0 || n <= 0 || batch <= 0) return;
        // An out-of-range argument would read or write arbitrary device memory: fail here instead.
        if (k > 0 && alpha != 0)
        {
            CheckExtent("A", a, aOffset, transA ? k : m, transA ? m : k, lda, batch, strideA);
            CheckExtent("B", b, bOffset, transB ? n : k, transB ? k : n, ldb, batch, strideB);
        }
        CheckExtent("C", c, cOffset, m, n, ldc, batch, strideC);
        var ma = new MatA { Data = V(a), Offset = I(aOffset), Ld = lda, Stride = I(strideA), Trans = transA ? 1 : 0 };
        var mb = new MatB { Data = V(b), Offset = I(bOffset), Ld = ldb, Stride = I(strideB), Trans = transB ? 1 : 0 };
        var mc = new DenseC { Data = V(c), Offset = I(cOffset), Ld = ldc, Stride = I(strideC), Alpha = alpha, Beta = beta };
        if (alpha == 0) k = 0;
        var (splits, chunk) = batch == 1 ? _plan.SplitK(TileCount(m, n), k) : (1, 0);
        if (splits == 1)
        {
            _k.Gemm(GemmGrid(m, n, batch), ma, mb, mc, m, n, k, _plan.GemmBk, 0);
            return;
        }
        using var ws = Allocate((long)splits * m * n).Lease();
        var wc = new DenseC { Data = V(ws.Buffer), Ld = n, Stride = m * n, Alpha = 1f };
        _k.Gemm(GemmGrid(m, n, splits), ma, mb, wc, m, n, k, _plan.GemmBk, chunk);
        _k.SplitKCombine(m * n, V(ws.Buffer), splits, m, n, mc);
    }

    private long TileCount(int rows, int cols) =>
        (long)((rows + _plan.GemmBm - 1) / _plan.GemmBm) * ((cols + _plan.GemmBn - 1) / _plan.GemmBn);

    /// <summary>Grid (⌈cols/BN⌉, ⌈rows/BM⌉, depth) of TX × TY groups with the slab pair in dynamic shared memory.</summary>
    private KernelConfig GemmGrid(int rows, int cols, int depth) => new(
        new Index3D((cols + _plan.GemmBn - 1) / _plan.GemmBn, (rows + _plan.GemmBm - 1) / _plan.GemmBm, depth),
        new Index3D(_plan.GemmTx, _plan.GemmTy, 1),
        SharedMemoryConfig.RequestDynamic<float>(_plan.GemmShared));

    private static void CheckExtent(string name, DeviceBuffer buf, long offset, int rows, int cols, int ld, int batch, long stride)
    {
        long last = offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols - 1;
        if (ld < cols || offset < 0 || stride < 0 || last >= buf.Length)
            throw new ArgumentOutOfRangeException(name,
                $"Gemm: {name} ({batch} × {rows}×{cols}, ld {ld}, offset {offset}, stride {stride}) does not fit its buffer of {buf.Length} elements");
    }
}
