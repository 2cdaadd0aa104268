using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Reads op(A)[row, p] of matrix z.</summary>
internal interface IGemmA
{
    /// <summary>True when p (k) is the contiguous index of the stored operand, false when row is.</summary>
    bool KFast { get; }

    /// <summary>True when <see cref="Load4"/> may be used: runs of four along the contiguous index that start at a multiple of 4 are 16-byte aligned.</summary>
    bool Vector { get; }

    /// <summary>op(A)[row, p] (the caller guarantees row &lt; m and p &lt; k).</summary>
    float Load(int z, int row, int p);

    /// <summary>Four elements from (row, p) along the contiguous index, whose coordinate there is a multiple of 4; all inside the matrix.</summary>
    Float4 Load4(int z, int row, int p);
}

/// <summary>Reads op(B)[p, col] of matrix z.</summary>
internal interface IGemmB
{
    /// <summary>True when p (k) is the contiguous index of the stored operand, false when col is.</summary>
    bool KFast { get; }

    /// <summary>True when <see cref="Load4"/> may be used (see <see cref="IGemmA.Vector"/>).</summary>
    bool Vector { get; }

    /// <summary>op(B)[p, col].</summary>
    float Load(int z, int p, int col);

    /// <summary>Four elements from (p, col) along the contiguous index, all inside the matrix.</summary>
    Float4 Load4(int z, int p, int col);
}

/// <summary>Writes the accumulated dot product of C[row, col] of matrix z (epilogue: scaling, bias, ...).</summary>
internal interface IGemmC
{
    void Store(int z, int row, int col, float acc);
}

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
/// The shared-memory tiled product behind SGEMM and every convolution (implicit GEMM: the operand
/// readers gather patches on the fly, so no im2col matrix exists in global memory), at a tile shape
/// fixed at compile time (<see cref="IGemmShape"/>).
/// <para>
/// A group of 32·WarpsM·WarpsN threads computes a BM × BN = 64·WarpsM × 32·WarpsN tile of C. Warp
/// tiling: each warp owns a 64 × 32 block, its lanes an 8 × 4 grid of threads, and each thread the
/// 8 × 8 block made of rows r..r+3 and r+32..r+35 and columns c..c+3 and c+16..c+19, so every step
/// reads two 128-bit words of op(A) and two of op(B) from shared memory for 64 FMAs (16 per load).
/// </para>
/// <para>
/// Staging: each thread fetches its share of the next 8-deep slab as 128-bit global loads along the
/// operand's contiguous index (scalar, zero-padded loads at the edges of C or k and for unaligned
/// operands) into registers while the group computes on the current slab, then writes them to the
/// other of two shared buffers: one barrier per slab. Slabs are stored k-major ([p][row] and
/// [p][col]); operands stored k-contiguous are transposed on the way in, into rows padded by four
/// floats so that the scattered stores of a warp fall in distinct banks.
/// </para>
/// Grid: (⌈n/BN⌉, ⌈m/BM⌉, batch or k-splits); group: (32·WarpsM·WarpsN, 1, 1).
/// </summary>
internal static class GemmTile
{
    /// <summary>Slab depth: split-K chunks are multiples of it.</summary>
    public const int BK = 8;

    private const int Pad = 4;

    /// <summary>
    /// Computes this group's tile. When <paramref name="kChunk"/> is positive, grid z selects the k range
    /// [z·kChunk, (z+1)·kChunk) (split-K); otherwise z is the batch index and k is whole.
    /// </summary>
    public static void Run<TS, TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k, int kChunk)
        where TS : struct, IGemmShape where TA : struct, IGemmA where TB : struct, IGemmB where TC : struct, IGemmC
    {
        var s = default(TS);
        int bm = 64 * s.WarpsM, bn = 32 * s.WarpsN, threads = 32 * s.WarpsM * s.WarpsN;
        int lda = bm + Pad, ldb = bn + Pad, aStage = BK * lda, bStage = BK * ldb;
        var sa = SharedMemory.Allocate<float>(2 * BK * (64 * s.WarpsM + Pad));
        var sb = SharedMemory.Allocate<float>(2 * BK * (32 * s.WarpsN + Pad));
        var sa4 = sa.Cast<Float4>();
        var sb4 = sb.Cast<Float4>();

        int t = Group.IdxX, warp = t >> 5, lane = t & 31;
        int rowT = warp / s.WarpsN * 64 + (lane >> 2) * 4;
        int colT = (warp & (s.WarpsN - 1)) * 32 + (lane & 3) * 4;
        int row0 = Grid.IdxY * bm, col0 = Grid.IdxX * bn, z = Grid.IdxZ;
        int kBegin = 0, kEnd = k;
        if (kChunk > 0)
        {
            kBegin = z * kChunk;
            kEnd = Math.Min(k, kBegin + kChunk);
        }

        // Each thread stages one or two 4-vectors of each operand per slab (bm·BK/4 and bn·BK/4 of them).
        int perA = bm * BK / 4 / threads, perB = bn * BK / 4 / threads;
        Float4 ra0 = default, ra1 = default, rb0 = default, rb1 = default;
        if (kBegin < kEnd)
        {
            ra0 = FetchA(ref a, z, t, bm, row0, kBegin, m, kEnd);
            if (perA > 1) ra1 = FetchA(ref a, z, t + threads, bm, row0, kBegin, m, kEnd);
            rb0 = FetchB(ref b, z, t, bn, col0, kBegin, n, kEnd);
            if (perB > 1) rb1 = FetchB(ref b, z, t + threads, bn, col0, kBegin, n, kEnd);
            Put(sa, sa4, a.KFast, t, bm, lda, ra0);
            if (perA > 1) Put(sa, sa4, a.KFast, t + threads, bm, lda, ra1);
            Put(sb, sb4, b.KFast, t, bn, ldb, rb0);
            if (perB > 1) Put(sb, sb4, b.KFast, t + threads, bn, ldb, rb1);
        }
        Group.Barrier();

        var acc = default(Acc8x8);
        int aBuf = 0, bBuf = 0, lda4 = lda >> 2, ldb4 = ldb >> 2;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK)
        {
            bool more = k0 + BK < kEnd;
            if (more)
            {
                ra0 = FetchA(ref a, z, t, bm, row0, k0 + BK, m, kEnd);
                if (perA > 1) ra1 = FetchA(ref a, z, t + threads, bm, row0, k0 + BK, m, kEnd);
                rb0 = FetchB(ref b, z, t, bn, col0, k0 + BK, n, kEnd);
                if (perB > 1) rb1 = FetchB(ref b, z, t + threads, bn, col0, k0 + BK, n, kEnd);
            }
            // The BK = 8 steps unrolled by hand: ILGPU does not unroll the loop, and unrolled the shared
            // addresses become one base plus constant offsets.
            int ao = (aBuf + rowT) >> 2, bo = (bBuf + colT) >> 2;
            acc.Step(sa4, sb4, ao, bo);
            acc.Step(sa4, sb4, ao + lda4, bo + ldb4);
            acc.Step(sa4, sb4, ao + 2 * lda4, bo + 2 * ldb4);
            acc.Step(sa4, sb4, ao + 3 * lda4, bo + 3 * ldb4);
            acc.Step(sa4, sb4, ao + 4 * lda4, bo + 4 * ldb4);
            acc.Step(sa4, sb4, ao + 5 * lda4, bo + 5 * ldb4);
            acc.Step(sa4, sb4, ao + 6 * lda4, bo + 6 * ldb4);
            acc.Step(sa4, sb4, ao + 7 * lda4, bo + 7 * ldb4);
            aBuf = aStage - aBuf;
            bBuf = bStage - bBuf;
            if (more)
            {
                Put(sa.SubView(aBuf, aStage), sa4.SubView(aBuf >> 2, aStage >> 2), a.KFast, t, bm, lda, ra0);
                if (perA > 1) Put(sa.SubView(aBuf, aStage), sa4.SubView(aBuf >> 2, aStage >> 2), a.KFast, t + threads, bm, lda, ra1);
                Put(sb.SubView(bBuf, bStage), sb4.SubView(bBuf >> 2, bStage >> 2), b.KFast, t, bn, ldb, rb0);
                if (perB > 1) Put(sb.SubView(bBuf, bStage), sb4.SubView(bBuf >> 2, bStage >> 2), b.KFast, t + threads, bn, ldb, rb1);
            }
            Group.Barrier();
        }

        int r = row0 + rowT, col = col0 + colT;
        Store(ref c, z, r, col, m, n, acc.C00);
        Store(ref c, z, r, col + 16, m, n, acc.C01);
        Store(ref c, z, r + 32, col, m, n, acc.C10);
        Store(ref c, z, r + 32, col + 16, m, n, acc.C11);
    }

    /// <summary>
    /// The 4-vector <paramref name="v"/> of an A slab: along k (two per row) when A is k-contiguous,
    /// else along rows (bm/4 per k). Elements outside op(A) or past <paramref name="kEnd"/> read as zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 FetchA<TA>(ref TA a, int z, int v, int bm, int row0, int k0, int m, int kEnd) where TA : struct, IGemmA
    {
        if (a.KFast)
        {
            int row = row0 + (v >> 1), p = k0 + ((v & 1) << 2);
            if (a.Vector && row < m && p + 3 < kEnd) return a.Load4(z, row, p);
            bool inRow = row < m;
            return new Float4
            {
                X = inRow && p < kEnd ? a.Load(z, row, p) : 0f,
                Y = inRow && p + 1 < kEnd ? a.Load(z, row, p + 1) : 0f,
                Z = inRow && p + 2 < kEnd ? a.Load(z, row, p + 2) : 0f,
                W = inRow && p + 3 < kEnd ? a.Load(z, row, p + 3) : 0f,
            };
        }
        else
        {
            int perK = bm >> 2;
            int row = row0 + (v & (perK - 1)) * 4, p = k0 + v / perK;
            if (a.Vector && row + 3 < m && p < kEnd) return a.Load4(z, row, p);
            bool inK = p < kEnd;
            return new Float4
            {
                X = inK && row < m ? a.Load(z, row, p) : 0f,
                Y = inK && row + 1 < m ? a.Load(z, row + 1, p) : 0f,
                Z = inK && row + 2 < m ? a.Load(z, row + 2, p) : 0f,
                W = inK && row + 3 < m ? a.Load(z, row + 3, p) : 0f,
            };
        }
    }

    /// <summary>The 4-vector <paramref name="v"/> of a B slab (mirror of <see cref="FetchA"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 FetchB<TB>(ref TB b, int z, int v, int bn, int col0, int k0, int n, int kEnd) where TB : struct, IGemmB
    {
        if (b.KFast)
        {
            int col = col0 + (v >> 1), p = k0 + ((v & 1) << 2);
            if (b.Vector && col < n && p + 3 < kEnd) return b.Load4(z, p, col);
            bool inCol = col < n;
            return new Float4
            {
                X = inCol && p < kEnd ? b.Load(z, p, col) : 0f,
                Y = inCol && p + 1 < kEnd ? b.Load(z, p + 1, col) : 0f,
                Z = inCol && p + 2 < kEnd ? b.Load(z, p + 2, col) : 0f,
                W = inCol && p + 3 < kEnd ? b.Load(z, p + 3, col) : 0f,
            };
        }
        else
        {
            int perK = bn >> 2;
            int col = col0 + (v & (perK - 1)) * 4, p = k0 + v / perK;
            if (b.Vector && col + 3 < n && p < kEnd) return b.Load4(z, p, col);
            bool inK = p < kEnd;
            return new Float4
            {
                X = inK && col < n ? b.Load(z, p, col) : 0f,
                Y = inK && col + 1 < n ? b.Load(z, p, col + 1) : 0f,
                Z = inK && col + 2 < n ? b.Load(z, p, col + 2) : 0f,
                W = inK && col + 3 < n ? b.Load(z, p, col + 3) : 0f,
            };
        }
    }

    /// <summary>
    /// Writes fetched vector <paramref name="v"/> into a slab buffer [p][i] (i: the row of A or column of B,
    /// <paramref name="width"/> of them, stride <paramref name="ld"/>): transposed when it ran along k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ArrayView<float> s, ArrayView<Float4> s4, bool kFast, int v, int width, int ld, Float4 x)
    {
        if (kFast)
        {
            int row = v >> 1, p = (v & 1) << 2;
            int o = p * ld + row;
            s[o] = x.X;
            s[o + ld] = x.Y;
            s[o + 2 * ld] = x.Z;
            s[o + 3 * ld] = x.W;
        }
        else
        {
            int perK = width >> 2;
            s4[(v / perK * ld >> 2) + (v & (perK - 1))] = x;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TC>(ref TC c, int z, int row, int col, int m, int n, Acc4x4 acc) where TC : struct, IGemmC
    {
        StoreRow(ref c, z, row, col, m, n, acc.C00, acc.C01, acc.C02, acc.C03);
        StoreRow(ref c, z, row + 1, col, m, n, acc.C10, acc.C11, acc.C12, acc.C13);
        StoreRow(ref c, z, row + 2, col, m, n, acc.C20, acc.C21, acc.C22, acc.C23);
        StoreRow(ref c, z, row + 3, col, m, n, acc.C30, acc.C31, acc.C32, acc.C33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TC>(ref TC c, int z, int row, int col, int m, int n, float v0, float v1, float v2, float v3)
        where TC : struct, IGemmC
    {
        if (row >= m) return;
        if (col < n) c.Store(z, row, col, v0);
        if (col + 1 < n) c.Store(z, row, col + 1, v1);
        if (col + 2 < n) c.Store(z, row, col + 2, v2);
        if (col + 3 < n) c.Store(z, row, col + 3, v3);
    }
}
