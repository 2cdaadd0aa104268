using System.Numerics;
using System.Runtime.CompilerServices;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// The hardware-neutral 6×16 micro-kernel on <see cref="Vector{T}"/> (any width dividing 16): it
/// sweeps the tile one vector column at a time with six row accumulators, re-reading the B panel
/// (L1-resident) per column. Used where AVX2/FMA is absent.
/// </summary>
internal static unsafe class SgemmKernelPortable
{
    private const int NR = 16;

    /// <summary>C[0..6, 0..16] = α·(A panel · B panel) + β·C, with β = 0 ignoring C.</summary>
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta)
    {
        int w = Vector<float>.Count;
        for (int v = 0; v < NR; v += w)
        {
            Vector<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            float* ap = a, bp = b + v;
            for (int p = 0; p < kc; p++)
            {
                var bv = Unsafe.ReadUnaligned<Vector<float>>(bp);
                c0 += new Vector<float>(ap[0]) * bv;
                c1 += new Vector<float>(ap[1]) * bv;
                c2 += new Vector<float>(ap[2]) * bv;
                c3 += new Vector<float>(ap[3]) * bv;
                c4 += new Vector<float>(ap[4]) * bv;
                c5 += new Vector<float>(ap[5]) * bv;
                ap += Sgemm.MR;
                bp += NR;
            }
            float* col = c + v;
            Store(col, c0, alpha, beta);
            Store(col + ldc, c1, alpha, beta);
            Store(col + 2 * ldc, c2, alpha, beta);
            Store(col + 3 * ldc, c3, alpha, beta);
            Store(col + 4 * ldc, c4, alpha, beta);
            Store(col + 5 * ldc, c5, alpha, beta);
        }
    }

    /// <summary>The portable twin of <see cref="SgemmKernelAvx2.RunRows"/>: A read in place through a table of row runs.</summary>
    public static void RunRows(int segments, int len, float** rows, float* b, float* c, long ldc, float* bias)
    {
        int w = Vector<float>.Count;
        for (int v = 0; v < NR; v += w)
        {
            Vector<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            float* bp = b + v;
            for (int s = 0; s < segments; s++)
            {
                float** t = rows + s * Sgemm.MR;
                float* a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3], a4 = t[4], a5 = t[5];
                for (int p = 0; p < len; p++)
                {
                    var bv = Unsafe.ReadUnaligned<Vector<float>>(bp);
                    c0 += new Vector<float>(a0[p]) * bv;
                    c1 += new Vector<float>(a1[p]) * bv;
                    c2 += new Vector<float>(a2[p]) * bv;
                    c3 += new Vector<float>(a3[p]) * bv;
                    c4 += new Vector<float>(a4[p]) * bv;
                    c5 += new Vector<float>(a5[p]) * bv;
                    bp += NR;
                }
            }
            var bv0 = bias == null ? Vector<float>.Zero : Unsafe.ReadUnaligned<Vector<float>>(bias + v);
            float* col = c + v;
            Unsafe.WriteUnaligned(col, c0 + bv0);
            Unsafe.WriteUnaligned(col + ldc, c1 + bv0);
            Unsafe.WriteUnaligned(col + 2 * ldc, c2 + bv0);
            Unsafe.WriteUnaligned(col + 3 * ldc, c3 + bv0);
            Unsafe.WriteUnaligned(col + 4 * ldc, c4 + bv0);
            Unsafe.WriteUnaligned(col + 5 * ldc, c5 + bv0);
        }
    }

    /// <summary>The portable twin of <see cref="SgemmKernelAvx2.RunGatherB"/>: B rows read in place through a table.</summary>
    public static void RunGatherB(int kc, float* a, float** bRows, int bOffset, float* c, long ldc, bool accumulate)
    {
        int w = Vector<float>.Count;
        for (int v = 0; v < NR; v += w)
        {
            Vector<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
            float* ap = a;
            for (int p = 0; p < kc; p++)
            {
                var bv = Unsafe.ReadUnaligned<Vector<float>>(bRows[p] + bOffset + v);
                c0 += new Vector<float>(ap[0]) * bv;
                c1 += new Vector<float>(ap[1]) * bv;
                c2 += new Vector<float>(ap[2]) * bv;
                c3 += new Vector<float>(ap[3]) * bv;
                c4 += new Vector<float>(ap[4]) * bv;
                c5 += new Vector<float>(ap[5]) * bv;
                ap += Sgemm.MR;
            }
            float* col = c + v;
            Store(col, c0, 1f, accumulate ? 1f : 0f);
            Store(col + ldc, c1, 1f, accumulate ? 1f : 0f);
            Store(col + 2 * ldc, c2, 1f, accumulate ? 1f : 0f);
            Store(col + 3 * ldc, c3, 1f, accumulate ? 1f : 0f);
            Store(col + 4 * ldc, c4, 1f, accumulate ? 1f : 0f);
            Store(col + 5 * ldc, c5, 1f, accumulate ? 1f : 0f);
        }
    }

    private static void Store(float* c, Vector<float> acc, float alpha, float beta)
    {
        var r = acc * alpha;
        if (beta != 0) r += Unsafe.ReadUnaligned<Vector<float>>(c) * beta;
        Unsafe.WriteUnaligned(c, r);
    }
}
