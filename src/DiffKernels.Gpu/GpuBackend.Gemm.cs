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
        DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC, DeviceBuffer? bias = null)
    {
        if (m <= 0 || n <= 0 || batch <= 0) return;
        GemmBias.Check(bias, n, beta);
        // An out-of-range argument would read or write arbitrary device memory: fail here instead.
        if (k > 0 && alpha != 0)
        {
            CheckExtent("A", a, aOffset, transA ? k : m, transA ? m : k, lda, batch, strideA);
            CheckExtent("B", b, bOffset, transB ? n : k, transB ? k : n, ldb, batch, strideB);
        }
        CheckExtent("C", c, cOffset, m, n, ldc, batch, strideC);
        var ma = new MatA { Data = V(a), Offset = I(aOffset), Ld = lda, Stride = I(strideA), Trans = transA ? 1 : 0, Aligned = Aligned(aOffset, lda, strideA) };
        var mb = new MatB { Data = V(b), Offset = I(bOffset), Ld = ldb, Stride = I(strideB), Trans = transB ? 1 : 0, Aligned = Aligned(bOffset, ldb, strideB) };
        var mc = new DenseC { Data = V(c), Offset = I(cOffset), Ld = ldc, Stride = I(strideC), Alpha = alpha, Beta = beta, Bias = bias != null ? V(bias) : V(c), HasBias = bias != null ? 1 : 0 };
        if (alpha == 0) k = 0;
        bool large = _plan.GemmLarge(m, n);
        var (splits, chunk) = batch == 1 ? _plan.SplitK(LaunchPlan.GemmTiles(m, n, large), k) : (1, 0);
        var gemm = GemmKernel(large);
        if (splits == 1)
        {
            gemm(GemmGrid(m, n, batch, large), ma, mb, Whole(mc, mc.Data), m, n, k, 0);
            return;
        }
        using var ws = Allocate((long)splits * m * n).Lease();
        gemm(GemmGrid(m, n, splits, large), ma, mb, SplitOver(mc, m, n, splits, ws.Buffer, LaunchPlan.GemmTiles(m, n, large)), m, n, k, chunk);
    }

    /// <summary>
    /// The arithmetic of <see cref="Gemm"/> and so of every matmul and linear layer on this backend (default
    /// <see cref="MatmulPrecision.Fp32"/>, or what <see cref="MatmulPrecisions.EnvironmentVariable"/> named when the
    /// backend was created). TF32 and 3×TF32 need tensor cores: CUDA of compute capability 8.0 or newer, or the
    /// emulator, which runs the kernels' C# twin; elsewhere setting them throws <see cref="InvalidInputException"/>.
    /// </summary>
    public MatmulPrecision MatmulPrecision
    {
        get => _matmulPrecision;
        set
        {
            if (value != MatmulPrecision.Fp32 && _plan.TensorCoresMissing is { } why)
                throw new InvalidInputException($"matmul precision {MatmulPrecisions.Name(value)}", $"needs tensor cores on the {Name} backend: {why}");
            _matmulPrecision = value;
        }
    }

    private MatmulPrecision _matmulPrecision;

    /// <summary>Whether this backend can run the TF32 and 3×TF32 products (see <see cref="MatmulPrecision"/>).</summary>
    public bool HasTensorCores => _plan.TensorCoresMissing == null;

    private Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int> GemmKernel(bool large) => _matmulPrecision switch
    {
        MatmulPrecision.Tf32 => _k.GemmTf32(large, _plan.TensorTwin),
        MatmulPrecision.Tf32x3 => _k.Gemm3xTf32(large, _plan.TensorTwin),
        _ => _k.Gemm(large),
    };

    // 128-bit loads need every run of four that starts at a multiple of 4 to be 16-byte aligned
    // (buffers themselves start aligned).
    private static int Aligned(long offset, int ld, long stride) => offset % 4 == 0 && ld % 4 == 0 && stride % 4 == 0 ? 1 : 0;

    /// <summary>Grid (⌈cols/BN⌉, ⌈rows/BM⌉, depth) of one-dimensional groups of the chosen tile shape (its shared memory is static).</summary>
    private KernelConfig GemmGrid(int rows, int cols, int depth, bool large)
    {
        var (bm, bn, threads) = LaunchPlan.GemmShape(large);
        var grid = new Index3D((cols + bn - 1) / bn, (rows + bm - 1) / bm, depth);
        var max = _acc.MaxGridSize;
        if (grid.X > max.X || grid.Y > max.Y || grid.Z > max.Z)
            throw new NotSupportedException($"{Name} backend: a {rows}×{cols} product over {depth} matrices needs a grid of {grid}, beyond the device's {max}");
        return new KernelConfig(grid, new Index3D(threads, 1, 1));
    }

    private static void CheckExtent(string name, DeviceBuffer buf, long offset, int rows, int cols, int ld, int batch, long stride)
    {
        long last = offset + (batch - 1) * stride + (long)(rows - 1) * ld + cols - 1;
        if (ld < cols || offset < 0 || stride < 0 || last >= buf.Length)
            throw new ArgumentOutOfRangeException(name,
                $"Gemm: {name} ({batch} × {rows}×{cols}, ld {ld}, offset {offset}, stride {stride}) does not fit its buffer of {buf.Length} elements");
    }
}
