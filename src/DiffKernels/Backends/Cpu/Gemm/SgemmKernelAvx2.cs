using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// The 6×16 AVX2 + FMA micro-kernel: twelve 8-float accumulators live in registers across the whole
/// k loop (plus two B vectors and one broadcast A value: 15 of the 16 ymm registers).
/// </summary>
internal static unsafe class SgemmKernelAvx2
{
    /// <summary>C[0..6, 0..16] = α·(A panel · B panel) + β·C, with β = 0 ignoring C.</summary>
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        var c00 = Vector256<float>.Zero; var c01 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero; var c11 = Vector256<float>.Zero;
        var c20 = Vector256<float>.Zero; var c21 = Vector256<float>.Zero;
        var c30 = Vector256<float>.Zero; var c31 = Vector256<float>.Zero;
        var c40 = Vector256<float>.Zero; var c41 = Vector256<float>.Zero;
        var c50 = Vector256<float>.Zero; var c51 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var av = Avx.BroadcastScalarToVector256(a);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Avx.BroadcastScalarToVector256(a + 1);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Avx.BroadcastScalarToVector256(a + 2);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Avx.BroadcastScalarToVector256(a + 3);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Avx.BroadcastScalarToVector256(a + 4);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Avx.BroadcastScalarToVector256(a + 5);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += Sgemm.MR;
            b += Sgemm.NR;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool keep = beta != 0;
        StoreRow(c, c00, c01, va, vb, keep);
        StoreRow(c + ldc, c10, c11, va, vb, keep);
        StoreRow(c + 2 * ldc, c20, c21, va, vb, keep);
        StoreRow(c + 3 * ldc, c30, c31, va, vb, keep);
        StoreRow(c + 4 * ldc, c40, c41, va, vb, keep);
        StoreRow(c + 5 * ldc, c50, c51, va, vb, keep);
    }

    private static void StoreRow(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> va, Vector256<float> vb, bool keep)
    {
        if (keep)
        {
            Avx.Store(c, Fma.MultiplyAdd(lo, va, Avx.Multiply(vb, Avx.LoadVector256(c))));
            Avx.Store(c + 8, Fma.MultiplyAdd(hi, va, Avx.Multiply(vb, Avx.LoadVector256(c + 8))));
        }
        else
        {
            Avx.Store(c, Avx.Multiply(lo, va));
            Avx.Store(c + 8, Avx.Multiply(hi, va));
        }
    }
}
