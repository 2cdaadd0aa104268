using System.Runtime.CompilerServices;

namespace DiffKernels.Backends.Cpu.Gemm;

/// <summary>
/// Packing of op(A) and op(B) blocks into the panel layouts the micro-kernels stream through:
/// A as MR-row panels stored k-major (MR values per k), B as NR-column panels (NR values per k).
/// Transposes are resolved here and ragged panels are zero-padded, so kernels never see either.
/// </summary>
internal static unsafe class SgemmPack
{
    private const int MR = Sgemm.MR, NR = Sgemm.NR;

    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into ⌈mc/MR⌉ panels of kc×MR.</summary>
    public static void PackA(bool transA, float* a, int lda, int i0, int mc, int p0, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (transA)
            {
                // Stored k×m: the MR values for one k are adjacent.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + ir;
                    float* d = panel + p * MR;
                    int r = 0;
                    for (; r < mr; r++) d[r] = src[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
            }
            else
            {
                // Stored m×k: walk each row contiguously and scatter into the panel.
                for (int r = 0; r < mr; r++)
                {
                    float* src = a + (long)(i0 + ir + r) * lda + p0;
                    float* d = panel + r;
                    for (int p = 0; p < kc; p++) d[p * MR] = src[p];
                }
                for (int r = mr; r < MR; r++)
                    for (int p = 0; p < kc; p++) panel[p * MR + r] = 0f;
            }
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into ⌈nc/NR⌉ panels of kc×NR.</summary>
    public static void PackB(bool transB, float* b, int ldb, int p0, int kc, int j0, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (transB)
            {
                // Stored n×k: each output column is a contiguous run of k.
                for (int j = 0; j < nr; j++)
                {
                    float* src = b + (long)(j0 + jr + j) * ldb + p0;
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * NR] = src[p];
                }
                for (int j = nr; j < NR; j++)
                    for (int p = 0; p < kc; p++) panel[p * NR + j] = 0f;
            }
            else
            {
                // Stored k×n: each k contributes nr adjacent values.
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jr;
                    float* d = panel + p * NR;
                    Unsafe.CopyBlockUnaligned(d, src, (uint)(nr * sizeof(float)));
                    for (int j = nr; j < NR; j++) d[j] = 0f;
                }
            }
        }
    }
}
