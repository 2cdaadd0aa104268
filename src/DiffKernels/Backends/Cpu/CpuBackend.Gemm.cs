using DiffKernels.Backends.Cpu.Gemm;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha,
        DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta,
        DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC, DeviceBuffer? bias = null)
    {
        if (m <= 0 || n <= 0 || batch <= 0) return;
        GemmBias.Check(bias, n, beta);
        // The kernels use raw pointers, so an out-of-range argument must fail here, not corrupt memory.
        if (k > 0 && alpha != 0)
        {
            CheckExtent("A", a, aOffset, transA ? k : m, transA ? m : k, lda, batch, strideA);
            CheckExtent("B", b, bOffset, transB ? n : k, transB ? k : n, ldb, batch, strideB);
        }
        CheckExtent("C", c, cOffset, m, n, ldc, batch, strideC);
        CpuFloats av = ((CpuBuffer)a).Data, bv = ((CpuBuffer)b).Data, cv = ((CpuBuffer)c).Data;
        if (bias != null)
        {
            // The bias goes into C first and the product accumulates onto it: one rounding per element, as the GPU epilogue.
            var row = ((CpuBuffer)bias).Data.AsSpan(0, n);
            for (int z = 0; z < batch; z++)
                for (int i = 0; i < m; i++) row.CopyTo(cv.AsSpan(checked((int)(cOffset + z * strideC + (long)i * ldc)), n));
            beta = 1f;
        }
        Sgemm.Run(transA, transB, m, n, k, alpha, av.Array, av.Offset + aOffset, lda, bv.Array, bv.Offset + bOffset, ldb,
            beta, cv.Array, cv.Offset + cOffset, ldc, batch, strideA, strideB, strideC);
    }

    private static void CheckExtent(string name, DeviceBuffer buf, long offset, int rows, int cols, int ld, int batch, long stride)
    {
        long last = offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols - 1;
        if (ld < cols || offset < 0 || stride < 0 || last >= buf.Length)
            throw new ArgumentOutOfRangeException(name,
                $"Gemm: {name} ({batch} × {rows}×{cols}, ld {ld}, offset {offset}, stride {stride}) does not fit its buffer of {buf.Length} elements");
    }
}
