using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// The 6×32 AVX-512F micro-kernel: twelve 16-float accumulators (of 32 zmm registers) across the k
/// loop. Where 512-bit units are split in two (AMD Zen 4) it does the same arithmetic as the AVX2
/// kernel with half the instructions, which leaves the core room to hide cache misses.
/// </summary>
internal static unsafe class SgemmKernelAvx512
{
    /// <summary>True when the kernel can run on this machine.</summary>
    public static bool Supported => Avx512F.IsSupported;

    /// <summary>C[0..6, 0..32] = α·(A panel · B panel) + β·C, with β = 0 ignoring C.</summary>
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        // C rows sit a leading dimension apart: start fetching them now so the final stores do not wait.
        for (int r = 0; r < Sgemm.MR; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 31);
        }
        var c00 = Vector512<float>.Zero; var c01 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero; var c21 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero; var c31 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero; var c41 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero; var c51 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx512F.LoadVector512(b);
            var b1 = Avx512F.LoadVector512(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            a += Sgemm.MR;
            b += 32;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        bool keep = beta != 0;
        StoreRow(c, c00, c01, va, vb, keep);
        StoreRow(c + ldc, c10, c11, va, vb, keep);
        StoreRow(c + 2 * ldc, c20, c21, va, vb, keep);
        StoreRow(c + 3 * ldc, c30, c31, va, vb, keep);
        StoreRow(c + 4 * ldc, c40, c41, va, vb, keep);
        StoreRow(c + 5 * ldc, c50, c51, va, vb, keep);
    }

    /// <summary>The AVX-512 form of <see cref="SgemmKernelAvx2.RunRows"/> (32 columns).</summary>
    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias)
    {
        var c00 = Vector512<float>.Zero; var c01 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero; var c21 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero; var c31 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero; var c41 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero; var c51 = Vector512<float>.Zero;
        for (int s = 0; s < segments; s++)
        {
            float** t = rows + s * Sgemm.MR;
            float* a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3], a4 = t[4], a5 = t[5];
            for (int p = 0; p < len; p++)
            {
                var b0 = Avx512F.LoadVector512(b);
                var b1 = Avx512F.LoadVector512(b + 16);
                var av = Vector512.Create(a0[p]);
                c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
                av = Vector512.Create(a1[p]);
                c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
                av = Vector512.Create(a2[p]);
                c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
                av = Vector512.Create(a3[p]);
                c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
                av = Vector512.Create(a4[p]);
                c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
                av = Vector512.Create(a5[p]);
                c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
                b += 32;
            }
        }
        var lo = bias == null ? Vector512<float>.Zero : Avx512F.LoadVector512(bias);
        var hi = bias == null ? Vector512<float>.Zero : Avx512F.LoadVector512(bias + 16);
        Avx512F.Store(c, Avx512F.Add(c00, lo)); Avx512F.Store(c + 16, Avx512F.Add(c01, hi));
        Avx512F.Store(c + ldc, Avx512F.Add(c10, lo)); Avx512F.Store(c + ldc + 16, Avx512F.Add(c11, hi));
        Avx512F.Store(c + 2 * ldc, Avx512F.Add(c20, lo)); Avx512F.Store(c + 2 * ldc + 16, Avx512F.Add(c21, hi));
        Avx512F.Store(c + 3 * ldc, Avx512F.Add(c30, lo)); Avx512F.Store(c + 3 * ldc + 16, Avx512F.Add(c31, hi));
        Avx512F.Store(c + 4 * ldc, Avx512F.Add(c40, lo)); Avx512F.Store(c + 4 * ldc + 16, Avx512F.Add(c41, hi));
        Avx512F.Store(c + 5 * ldc, Avx512F.Add(c50, lo)); Avx512F.Store(c + 5 * ldc + 16, Avx512F.Add(c51, hi));
    }

    /// <summary>The AVX-512 form of <see cref="SgemmKernelAvx2.RunGatherB"/> (32 columns).</summary>
    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate)
    {
        var c00 = Vector512<float>.Zero; var c01 = Vector512<float>.Zero;
        var c10 = Vector512<float>.Zero; var c11 = Vector512<float>.Zero;
        var c20 = Vector512<float>.Zero; var c21 = Vector512<float>.Zero;
        var c30 = Vector512<float>.Zero; var c31 = Vector512<float>.Zero;
        var c40 = Vector512<float>.Zero; var c41 = Vector512<float>.Zero;
        var c50 = Vector512<float>.Zero; var c51 = Vector512<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            float* b = bRows[p] + bOffset;
            var b0 = Avx512F.LoadVector512(b);
            var b1 = Avx512F.LoadVector512(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(av, b0, c00); c01 = Avx512F.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(av, b0, c10); c11 = Avx512F.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(av, b0, c20); c21 = Avx512F.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(av, b0, c30); c31 = Avx512F.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(av, b0, c40); c41 = Avx512F.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(av, b0, c50); c51 = Avx512F.FusedMultiplyAdd(av, b1, c51);
            a += Sgemm.MR;
        }
        AddOrStore(c, c00, c01, accumulate);
        AddOrStore(c + ldc, c10, c11, accumulate);
        AddOrStore(c + 2 * ldc, c20, c21, accumulate);
        AddOrStore(c + 3 * ldc, c30, c31, accumulate);
        AddOrStore(c + 4 * ldc, c40, c41, accumulate);
        AddOrStore(c + 5 * ldc, c50, c51, accumulate);
    }

    private static void AddOrStore(float* c, Vector512<float> lo, Vector512<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo = Avx512F.Add(lo, Avx512F.LoadVector512(c));
            hi = Avx512F.Add(hi, Avx512F.LoadVector512(c + 16));
        }
        Avx512F.Store(c, lo);
        Avx512F.Store(c + 16, hi);
    }

    private static void StoreRow(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> va, Vector512<float> vb, bool keep)
    {
        if (keep)
        {
            Avx512F.Store(c, Avx512F.FusedMultiplyAdd(lo, va, Avx512F.Multiply(vb, Avx512F.LoadVector512(c))));
            Avx512F.Store(c + 16, Avx512F.FusedMultiplyAdd(hi, va, Avx512F.Multiply(vb, Avx512F.LoadVector512(c + 16))));
        }
        else
        {
            Avx512F.Store(c, Avx512F.Multiply(lo, va));
            Avx512F.Store(c + 16, Avx512F.Multiply(hi, va));
        }
    }
}
