using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Strided batched SGEMM (all four transpose cases) in FP32, TF32 and 3×TF32; a product with few tiles may split
/// its k over grid z and sum the partials in the same launch (<see cref="GemmSplitK"/>).
/// </summary>
internal static class GemmKernels
{
    /// <summary>
    /// C = α·op(A)·op(B) + β·C per batch, or, when <paramref name="kChunk"/> &gt; 0, one k-slice per grid z whose
    /// partials the last group of each tile sums into C.
    /// </summary>
    [Kernel(grouped: true)]
    public static void Gemm<TS>(MatA a, MatB b, SplitKC<DenseC> c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape
    {
        GemmTile.Run<TS, SimtMath, MatA, MatB, SplitKC<DenseC>>(a, b, c, m, n, k, kChunk);
        GemmSplitK.Reduce<TS, DenseC>(c);
    }

    /// <summary>
    /// <see cref="Gemm{TS}"/> on the tensor cores with operands rounded to TF32 (10 mantissa bits): <see cref="Mma"/>
    /// on CUDA of compute capability 8.0 or newer, <see cref="MmaTwin"/> (its C# twin) on the emulator.
    /// </summary>
    [Kernel(grouped: true)]
    public static void GemmTf32<TS, TU>(MatA a, MatB b, SplitKC<DenseC> c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape where TU : struct, IMmaUnit
    {
        GemmTile.Run<TS, TensorMath<Tf32Single, TU>, MatA, MatB, SplitKC<DenseC>>(a, b, c, m, n, k, kChunk);
        GemmSplitK.Reduce<TS, DenseC>(c);
    }

    /// <summary><see cref="GemmTf32{TS, TU}"/> as 3×TF32 (big·small + small·big + big·big): close to FP32 accuracy, three mma per block.</summary>
    [Kernel(grouped: true)]
    public static void Gemm3xTf32<TS, TU>(MatA a, MatB b, SplitKC<DenseC> c, int m, int n, int k, int kChunk) where TS : struct, IGemmShape where TU : struct, IMmaUnit
    {
        GemmTile.Run<TS, TensorMath<Tf32Split, TU>, MatA, MatB, SplitKC<DenseC>>(a, b, c, m, n, k, kChunk);
        GemmSplitK.Reduce<TS, DenseC>(c);
    }
}
