using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Reads op(A)[row, p] of matrix z (the caller guarantees row &lt; m and p &lt; k).</summary>
internal interface IGemmA
{
    float Load(int z, int row, int p);
}

/// <summary>Reads op(B)[p, col] of matrix z.</summary>
internal interface IGemmB
{
    float Load(int z, int p, int col);
}

/// <summary>Writes the accumulated dot product of C[row, col] of matrix z (epilogue: scaling, bias, ...).</summary>
internal interface IGemmC
{
    void Store(int z, int row, int col, float acc);
}

/// <summary>The 4×4 outer-product accumulator one thread keeps in registers.</summary>
internal struct Acc4x4
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fma(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
    }
}

/// <summary>
/// The shared-memory tiled product behind SGEMM and every convolution (implicit GEMM: the operand
/// readers gather patches on the fly, so no im2col matrix exists in global memory).
/// A 2-D group of TX × TY threads computes a BM × BN = 4·TY × 4·TX tile of C; each thread owns a
/// 4×4 register block at rows ty + i·TY and columns tx + j·TX (strided, so the threads of a warp
/// store consecutive columns). Each step stages a BK-deep slab of op(A) and op(B) in shared memory
/// (dynamic: BK·(BM + BN) floats), loaded cooperatively along whichever index is contiguous in
/// memory (aKFast/bKFast: the k index is the contiguous one), so global reads coalesce.
/// Tiles that lie wholly inside C read without bounds checks; edge tiles take the checked path that
/// pads with zeros and skips the stores outside C. Grid: (⌈n/BN⌉, ⌈m/BM⌉, batch or k-splits).
/// </summary>
internal static class GemmTile
{
    /// <summary>
    /// Computes this group's tile. When <paramref name="kChunk"/> is positive, grid z selects the k range
    /// [z·kChunk, (z+1)·kChunk) (split-K); otherwise z is the batch index and k is whole.
    /// </summary>
    public static void Run<TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k, int bk, int kChunk, bool aKFast, bool bKFast)
        where TA : struct, IGemmA where TB : struct, IGemmB where TC : struct, IGemmC
    {
        int tx = Group.IdxX, ty = Group.IdxY, nx = Group.DimX, ny = Group.DimY;
        int bm = 4 * ny, bn = 4 * nx, threads = nx * ny, t = ty * nx + tx;
        int row0 = Grid.IdxY * bm, col0 = Grid.IdxX * bn, z = Grid.IdxZ;
        int kBegin = 0, kEnd = k;
        if (kChunk > 0)
        {
            kBegin = z * kChunk;
            kEnd = Math.Min(k, kBegin + kChunk);
        }
        var shared = SharedMemory.GetDynamic<float>();
        var sa = shared.SubView(0, bk * bm);
        var sb = shared.SubView(bk * bm, bk * bn);
        bool inside = row0 + bm <= m && col0 + bn <= n;
        var acc = default(Acc4x4);
        for (int k0 = kBegin; k0 < kEnd; k0 += bk)
        {
            int kLen = Math.Min(bk, kEnd - k0);
            bool full = inside && kLen == bk;
            for (int e = t; e < bk * bm; e += threads)
            {
                int r, p;
                if (aKFast) { p = e % bk; r = e / bk; }
                else { r = e % bm; p = e / bm; }
                float v;
                if (full) v = a.Load(z, row0 + r, k0 + p);
                else v = row0 + r < m && p < kLen ? a.Load(z, row0 + r, k0 + p) : 0f;
                sa[p * bm + r] = v;
            }
            for (int e = t; e < bk * bn; e += threads)
            {
                int col, p;
                if (bKFast) { p = e % bk; col = e / bk; }
                else { col = e % bn; p = e / bn; }
                float v;
                if (full) v = b.Load(z, k0 + p, col0 + col);
                else v = col0 + col < n && p < kLen ? b.Load(z, k0 + p, col0 + col) : 0f;
                sb[p * bn + col] = v;
            }
            Group.Barrier();
            for (int p = 0; p < kLen; p++)
            {
                int ao = p * bm + ty, bo = p * bn + tx;
                acc.Fma(sa[ao], sa[ao + ny], sa[ao + 2 * ny], sa[ao + 3 * ny], sb[bo], sb[bo + nx], sb[bo + 2 * nx], sb[bo + 3 * nx]);
            }
            Group.Barrier();
        }
        int r0 = row0 + ty, c0 = col0 + tx;
        StoreRow(ref c, z, r0, c0, nx, m, n, acc.C00, acc.C01, acc.C02, acc.C03);
        StoreRow(ref c, z, r0 + ny, c0, nx, m, n, acc.C10, acc.C11, acc.C12, acc.C13);
        StoreRow(ref c, z, r0 + 2 * ny, c0, nx, m, n, acc.C20, acc.C21, acc.C22, acc.C23);
        StoreRow(ref c, z, r0 + 3 * ny, c0, nx, m, n, acc.C30, acc.C31, acc.C32, acc.C33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TC>(ref TC c, int z, int row, int col, int step, int m, int n, float v0, float v1, float v2, float v3)
        where TC : struct, IGemmC
    {
        if (row >= m) return;
        if (col < n) c.Store(z, row, col, v0);
        if (col + step < n) c.Store(z, row, col + step, v1);
        if (col + 2 * step < n) c.Store(z, row, col + 2 * step, v2);
        if (col + 3 * step < n) c.Store(z, row, col + 3 * step, v3);
    }
}
