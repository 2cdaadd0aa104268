using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// The 6×16 AVX2 + FMA micro-kernel: twelve 8-float accumulators live in registers across the whole
/// k loop (plus two B vectors and one broadcast A value: 15 of the 16 ymm registers).
/// </summary>
internal static unsafe class SgemmKernelAvx2
{
    private const int NR = 16;

    /// <summary>C[0..6, 0..16] = α·(A panel · B panel) + β·C, with β = 0 ignoring C.</summary>
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        // C rows sit a leading dimension apart, each in its own cache lines: start fetching them now
        // so the stores at the end do not wait on memory.
        for (int r = 0; r < Sgemm.MR; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 15);
        }
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
            b += NR;
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

    /// <summary>
    /// C[0..6, 0..16] = A·(B panel) + bias, with A read in place: row r is the concatenation of
    /// <paramref name="segments"/> runs of <paramref name="len"/> floats starting at rows[s·6 + r]
    /// (an implicit im2col: each run is one kernel tap of one output pixel). The B panel holds
    /// segments·len rows of 16. <paramref name="bias"/> (16 floats) may be null.
    /// </summary>
    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias)
    {
        var c00 = Vector256<float>.Zero; var c01 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero; var c11 = Vector256<float>.Zero;
        var c20 = Vector256<float>.Zero; var c21 = Vector256<float>.Zero;
        var c30 = Vector256<float>.Zero; var c31 = Vector256<float>.Zero;
        var c40 = Vector256<float>.Zero; var c41 = Vector256<float>.Zero;
        var c50 = Vector256<float>.Zero; var c51 = Vector256<float>.Zero;
        for (int s = 0; s < segments; s++)
        {
            float** t = rows + s * Sgemm.MR;
            float* a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3], a4 = t[4], a5 = t[5];
            for (int p = 0; p < len; p++)
            {
                var b0 = Avx.LoadVector256(b);
                var b1 = Avx.LoadVector256(b + 8);
                var av = Avx.BroadcastScalarToVector256(a0 + p);
                c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
                av = Avx.BroadcastScalarToVector256(a1 + p);
                c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
                av = Avx.BroadcastScalarToVector256(a2 + p);
                c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
                av = Avx.BroadcastScalarToVector256(a3 + p);
                c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
                av = Avx.BroadcastScalarToVector256(a4 + p);
                c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
                av = Avx.BroadcastScalarToVector256(a5 + p);
                c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
                b += NR;
            }
        }
        var lo = bias == null ? Vector256<float>.Zero : Avx.LoadVector256(bias);
        var hi = bias == null ? Vector256<float>.Zero : Avx.LoadVector256(bias + 8);
        Avx.Store(c, Avx.Add(c00, lo)); Avx.Store(c + 8, Avx.Add(c01, hi));
        Avx.Store(c + ldc, Avx.Add(c10, lo)); Avx.Store(c + ldc + 8, Avx.Add(c11, hi));
        Avx.Store(c + 2 * ldc, Avx.Add(c20, lo)); Avx.Store(c + 2 * ldc + 8, Avx.Add(c21, hi));
        Avx.Store(c + 3 * ldc, Avx.Add(c30, lo)); Avx.Store(c + 3 * ldc + 8, Avx.Add(c31, hi));
        Avx.Store(c + 4 * ldc, Avx.Add(c40, lo)); Avx.Store(c + 4 * ldc + 8, Avx.Add(c41, hi));
        Avx.Store(c + 5 * ldc, Avx.Add(c50, lo)); Avx.Store(c + 5 * ldc + 8, Avx.Add(c51, hi));
    }

    /// <summary>
    /// C[0..6, 0..16] = (C if <paramref name="accumulate"/>) + A panel · B with B gathered by row: row p is the
    /// 16 floats at bRows[p] + <paramref name="bOffset"/>, read in place (a convolution's weight gradient
    /// reads its im2col rows straight from the input this way, with no packed copy).
    /// </summary>
    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate)
    {
        var c00 = Vector256<float>.Zero; var c01 = Vector256<float>.Zero;
        var c10 = Vector256<float>.Zero; var c11 = Vector256<float>.Zero;
        var c20 = Vector256<float>.Zero; var c21 = Vector256<float>.Zero;
        var c30 = Vector256<float>.Zero; var c31 = Vector256<float>.Zero;
        var c40 = Vector256<float>.Zero; var c41 = Vector256<float>.Zero;
        var c50 = Vector256<float>.Zero; var c51 = Vector256<float>.Zero;
        for (int p = 0; p < kc; p++)
        {
            float* b = bRows[p] + bOffset;
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
            a += Sgemm.MR;
        }
        AddOrStore(c, c00, c01, accumulate);
        AddOrStore(c + ldc, c10, c11, accumulate);
        AddOrStore(c + 2 * ldc, c20, c21, accumulate);
        AddOrStore(c + 3 * ldc, c30, c31, accumulate);
        AddOrStore(c + 4 * ldc, c40, c41, accumulate);
        AddOrStore(c + 5 * ldc, c50, c51, accumulate);
    }

    private static void AddOrStore(float* c, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo = Avx.Add(lo, Avx.LoadVector256(c));
            hi = Avx.Add(hi, Avx.LoadVector256(c + 8));
        }
        Avx.Store(c, lo);
        Avx.Store(c + 8, hi);
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
