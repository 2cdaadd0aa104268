using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Strided batched SGEMM (all four transpose cases) and the split-K combine.</summary>
internal static class GemmKernels
{
    /// <summary>C = α·op(A)·op(B) + β·C per batch (or one k-slice per grid z into a workspace when <paramref name="kChunk"/> &gt; 0).</summary>
    [Kernel(grouped: true)]
    public static void Gemm<TS>(MatA a, MatB b, DenseC c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape =>
        GemmTile.Run<TS, SimtMath, MatA, MatB, DenseC>(a, b, c, m, n, k, kChunk);

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
