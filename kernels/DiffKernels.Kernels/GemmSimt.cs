using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>A 4×4 block of C in registers, updated by the outer product of a column of op(A) and a row of op(B).</summary>
internal struct Acc4x4
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fma(Float4 a, Float4 b)
    {
        C00 += a.X * b.X; C01 += a.X * b.Y; C02 += a.X * b.Z; C03 += a.X * b.W;
        C10 += a.Y * b.X; C11 += a.Y * b.Y; C12 += a.Y * b.Z; C13 += a.Y * b.W;
        C20 += a.Z * b.X; C21 += a.Z * b.Y; C22 += a.Z * b.Z; C23 += a.Z * b.W;
        C30 += a.W * b.X; C31 += a.W * b.Y; C32 += a.W * b.Z; C33 += a.W * b.W;
    }
}

/// <summary>
/// One thread's 8 × 8 block of C: rows r..r+3 and r+32..r+35 by columns c..c+3 and c+16..c+19.
/// </summary>
internal struct Acc8x8
{
    public Acc4x4 C00, C01, C10, C11;

    /// <summary>One k step: two 128-bit words of the A slab at <paramref name="a"/> (and 32 rows on), two of the B slab at <paramref name="b"/> (and 16 columns on), 64 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(ArrayView<Float4> sa, ArrayView<Float4> sb, int a, int b)
    {
        Float4 a0 = sa[a], a1 = sa[a + 8], b0 = sb[b], b1 = sb[b + 4];
        C00.Fma(a0, b0);
        C01.Fma(a0, b1);
        C10.Fma(a1, b0);
        C11.Fma(a1, b1);
    }
}

/// <summary>
/// The FP32 arithmetic of the GEMM core: a warp's 64 × 32 block is an 8 × 4 grid of lanes, each
/// thread owning the 8 × 8 block made of rows r..r+3 and r+32..r+35 and columns c..c+3 and
/// c+16..c+19, so every k step reads two 128-bit words of op(A) and two of op(B) from shared memory
/// for 64 FMAs (16 per load).
/// </summary>
internal struct SimtMath : IGemmMath
{
    private Acc8x8 _acc;
    private int _rowT, _colT;

    public readonly int Pad => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start<TS>(int t) where TS : struct, IGemmShape
    {
        var s = default(TS);
        int warp = t >> 5, lane = t & 31;
        _rowT = warp / s.WarpsN * 64 + (lane >> 2) * 4;
        _colT = (warp & (s.WarpsN - 1)) * 32 + (lane & 3) * 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Slab(ArrayView<float> sa, ArrayView<Float4> sa4, ArrayView<float> sb, ArrayView<Float4> sb4, int aBuf, int bBuf, int lda, int ldb)
    {
        // The BK = 8 steps unrolled by hand: ILGPU does not unroll the loop, and unrolled the shared
        // addresses become one base plus constant offsets.
        int lda4 = lda >> 2, ldb4 = ldb >> 2;
        int ao = (aBuf + _rowT) >> 2, bo = (bBuf + _colT) >> 2;
        _acc.Step(sa4, sb4, ao, bo);
        _acc.Step(sa4, sb4, ao + lda4, bo + ldb4);
        _acc.Step(sa4, sb4, ao + 2 * lda4, bo + 2 * ldb4);
        _acc.Step(sa4, sb4, ao + 3 * lda4, bo + 3 * ldb4);
        _acc.Step(sa4, sb4, ao + 4 * lda4, bo + 4 * ldb4);
        _acc.Step(sa4, sb4, ao + 5 * lda4, bo + 5 * ldb4);
        _acc.Step(sa4, sb4, ao + 6 * lda4, bo + 6 * ldb4);
        _acc.Step(sa4, sb4, ao + 7 * lda4, bo + 7 * ldb4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store<TC>(ref TC c, int z, int row0, int col0, int m, int n) where TC : struct, IGemmC
    {
        int r = row0 + _rowT, col = col0 + _colT;
        Store(ref c, z, r, col, m, n, _acc.C00);
        Store(ref c, z, r, col + 16, m, n, _acc.C01);
        Store(ref c, z, r + 32, col, m, n, _acc.C10);
        Store(ref c, z, r + 32, col + 16, m, n, _acc.C11);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TC>(ref TC c, int z, int row, int col, int m, int n, Acc4x4 acc) where TC : struct, IGemmC
    {
        GemmTile.StoreRow(ref c, z, row, col, m, n, acc.C00, acc.C01, acc.C02, acc.C03);
        GemmTile.StoreRow(ref c, z, row + 1, col, m, n, acc.C10, acc.C11, acc.C12, acc.C13);
        GemmTile.StoreRow(ref c, z, row + 2, col, m, n, acc.C20, acc.C21, acc.C22, acc.C23);
        GemmTile.StoreRow(ref c, z, row + 3, col, m, n, acc.C30, acc.C31, acc.C32, acc.C33);
    }
}
