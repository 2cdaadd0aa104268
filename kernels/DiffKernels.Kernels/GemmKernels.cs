using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Strided batched SGEMM (all four transpose cases) in FP32, TF32 and 3×TF32, and the split-K combine.</summary>
internal static class GemmKernels
{
    /// <summary>C = α·op(A)·op(B) + β·C per batch (or one k-slice per grid z into a workspace when <paramref name="kChunk"/> &gt; 0).</summary>
    [Kernel(grouped: true)]
    public static void Gemm<TS>(MatA a, MatB b, DenseC c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, MatA, MatB, DenseC>(a, b, c, m, n, k, kChunk);

    /// <summary>
    /// <see cref="Gemm{TS}"/> on the tensor cores with operands rounded to TF32 (10 mantissa bits): <see cref="Mma"/>
    /// on CUDA of compute capability 8.0 or newer, <see cref="MmaTwin"/> (its C# twin) on the emulator.
    /// </summary>
    [Kernel(grouped: true)]
    public static void GemmTf32<TS, TU>(MatA a, MatB b, DenseC c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape where TU : struct, IMmaUnit =>
        GemmTile.Run<TS, TensorMath<Tf32Single, TU>, MatA, MatB, DenseC>(a, b, c, m, n, k, kChunk);

    /// <summary><see cref="GemmTf32{TS, TU}"/> as 3×TF32 (big·small + small·big + big·big): close to FP32 accuracy, three mma per block.</summary>
    [Kernel(grouped: true)]
    public static void Gemm3xTf32<TS, TU>(MatA a, MatB b, DenseC c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape where TU : struct, IMmaUnit =>
        GemmTile.Run<TS, TensorMath<Tf32Split, TU>, MatA, MatB, DenseC>(a, b, c, m, n, k, kChunk);

    /// <summary>
    /// Combines split-K partials ws[s, m, n] into C: C = α·Σ_s ws[s] + β·C (β = 0 never reads C),
    /// summing the slices in order so the result is deterministic. One thread per element of C.
    /// </summary>
    [Kernel]
    public static void SplitKCombine(Index1D i, ArrayView<float> ws, int splits, int m, int n, DenseC c)
    {
        float s = 0f;
        for (int z = 0; z < splits; z++) s += ws[z * m * n + i];
        c.Store(0, i / n, i % n, s);
    }
}
