using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Reads op(A) of matrix z through a cursor: the core keeps one copy of the operand per staging slot,
/// positions it once (<see cref="Start"/>) and then moves it one slab along k at a time
/// (<see cref="Advance"/>), so whatever an operand decodes from its indices (a pixel's coordinates,
/// a tap) is decoded once per thread rather than once per load.
/// </summary>
internal interface IGemmA
{
    /// <summary>True when p (k) is the contiguous index of the stored operand, false when row is.</summary>
    bool KFast { get; }

    /// <summary>
    /// Positions this copy at the run of four elements that starts at (row, p) and runs along the
    /// contiguous index. Runs before the main loop: the one place an operand may divide. The run may
    /// lie partly or wholly outside the matrix; nothing is read here.
    /// </summary>
    void Start(int z, int row, int p);

    /// <summary>
    /// The run at the cursor: its first <paramref name="count"/> elements (0 to 4, which the caller has
    /// checked against the matrix and the k range), zeros after them; one 128-bit load when all four
    /// are wanted and the operand's layout keeps them aligned.
    /// </summary>
    Float4 Fetch(int count);

    /// <summary>Moves the cursor <see cref="GemmTile.BK"/> along k, with additions and compares only: it runs in the main loop.</summary>
    void Advance();
}

/// <summary>Reads op(B) of matrix z through a cursor (the mirror of <see cref="IGemmA"/>: col for row).</summary>
internal interface IGemmB
{
    /// <summary>True when p (k) is the contiguous index of the stored operand, false when col is.</summary>
    bool KFast { get; }

    /// <summary>Positions this copy at the run of four that starts at (p, col) (see <see cref="IGemmA.Start"/>).</summary>
    void Start(int z, int p, int col);

    /// <summary>The run at the cursor, its first <paramref name="count"/> elements (see <see cref="IGemmA.Fetch"/>).</summary>
    Float4 Fetch(int count);

    /// <summary>Moves the cursor <see cref="GemmTile.BK"/> along k (no division).</summary>
    void Advance();
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
/// other of two shared buffers: one barrier per slab. A thread stages the same rows (or columns) of
/// every slab, one to four runs of four per operand, each through its own cursor over the operand
/// (<see cref="IGemmA"/>), positioned once before the main loop and advanced one slab per iteration.
/// Slabs are stored k-major ([p][row] and [p][col]); operands stored k-contiguous are transposed on
/// the way in, into rows padded by four floats so that the scattered stores of a warp fall in
/// distinct banks.
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

        // Each thread stages perA runs of four of each A slab (bm·BK/4 runs over the group: 1, 2 or 4
        // per thread at the shapes of IGemmShape) and perB of each B slab (1 or 2), run i of thread t
        // being run t + i·threads of the slab. Unused cursors and registers fold away.
        int perA = bm * BK / 4 / threads, perB = bn * BK / 4 / threads;
        TA a0 = a, a1 = a, a2 = a, a3 = a;
        TB b0 = b, b1 = b;
        Float4 ra0 = default, ra1 = default, ra2 = default, ra3 = default, rb0 = default, rb1 = default;
        if (kBegin < kEnd)
        {
            StartA(ref a0, z, t, bm, row0, kBegin);
            ra0 = FetchA(ref a0, t, bm, row0, kBegin, m, kEnd);
            Put(sa, sa4, a.KFast, t, bm, lda, ra0);
            if (perA > 1)
            {
                StartA(ref a1, z, t + threads, bm, row0, kBegin);
                ra1 = FetchA(ref a1, t + threads, bm, row0, kBegin, m, kEnd);
                Put(sa, sa4, a.KFast, t + threads, bm, lda, ra1);
            }
            if (perA > 2)
            {
                StartA(ref a2, z, t + 2 * threads, bm, row0, kBegin);
                StartA(ref a3, z, t + 3 * threads, bm, row0, kBegin);
                ra2 = FetchA(ref a2, t + 2 * threads, bm, row0, kBegin, m, kEnd);
                ra3 = FetchA(ref a3, t + 3 * threads, bm, row0, kBegin, m, kEnd);
                Put(sa, sa4, a.KFast, t + 2 * threads, bm, lda, ra2);
                Put(sa, sa4, a.KFast, t + 3 * threads, bm, lda, ra3);
            }
            StartB(ref b0, z, t, bn, col0, kBegin);
            rb0 = FetchB(ref b0, t, bn, col0, kBegin, n, kEnd);
            Put(sb, sb4, b.KFast, t, bn, ldb, rb0);
            if (perB > 1)
            {
                StartB(ref b1, z, t + threads, bn, col0, kBegin);
                rb1 = FetchB(ref b1, t + threads, bn, col0, kBegin, n, kEnd);
                Put(sb, sb4, b.KFast, t + threads, bn, ldb, rb1);
            }
        }
        Group.Barrier();

        var acc = default(Acc8x8);
        int aBuf = 0, bBuf = 0, lda4 = lda >> 2, ldb4 = ldb >> 2;
        for (int k0 = kBegin; k0 < kEnd; k0 += BK)
        {
            bool more = k0 + BK < kEnd;
            if (more)
            {
                int next = k0 + BK;
                a0.Advance();
                ra0 = FetchA(ref a0, t, bm, row0, next, m, kEnd);
                if (perA > 1)
                {
                    a1.Advance();
                    ra1 = FetchA(ref a1, t + threads, bm, row0, next, m, kEnd);
                }
                if (perA > 2)
                {
                    a2.Advance();
                    a3.Advance();
                    ra2 = FetchA(ref a2, t + 2 * threads, bm, row0, next, m, kEnd);
                    ra3 = FetchA(ref a3, t + 3 * threads, bm, row0, next, m, kEnd);
                }
                b0.Advance();
                rb0 = FetchB(ref b0, t, bn, col0, next, n, kEnd);
                if (perB > 1)
                {
                    b1.Advance();
                    rb1 = FetchB(ref b1, t + threads, bn, col0, next, n, kEnd);
                }
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
                var sA = sa.SubView(aBuf, aStage);
                var sA4 = sa4.SubView(aBuf >> 2, aStage >> 2);
                var sB = sb.SubView(bBuf, bStage);
                var sB4 = sb4.SubView(bBuf >> 2, bStage >> 2);
                Put(sA, sA4, a.KFast, t, bm, lda, ra0);
                if (perA > 1) Put(sA, sA4, a.KFast, t + threads, bm, lda, ra1);
                if (perA > 2)
                {
                    Put(sA, sA4, a.KFast, t + 2 * threads, bm, lda, ra2);
                    Put(sA, sA4, a.KFast, t + 3 * threads, bm, lda, ra3);
                }
                Put(sB, sB4, b.KFast, t, bn, ldb, rb0);
                if (perB > 1) Put(sB, sB4, b.KFast, t + threads, bn, ldb, rb1);
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
    /// Where run <paramref name="v"/> of an A slab starting at <paramref name="k0"/> lies: along k (two
    /// runs per row) when A is k-contiguous, else along rows (bm/4 runs per k). Shifts and masks only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RunOf(bool kFast, int v, int width, int i0, int k0, out int i, out int p)
    {
        if (kFast)
        {
            i = i0 + (v >> 1);
            p = k0 + ((v & 1) << 2);
        }
        else
        {
            int perK = width >> 2;
            i = i0 + (v & (perK - 1)) * 4;
            p = k0 + v / perK;
        }
    }

    /// <summary>Elements of a run at (i, p) inside a matrix of <paramref name="extent"/> rows (or columns) and before <paramref name="kEnd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Count(bool kFast, int i, int p, int extent, int kEnd) => kFast
        ? i < extent ? Math.Min(4, Math.Max(0, kEnd - p)) : 0
        : p < kEnd ? Math.Min(4, Math.Max(0, extent - i)) : 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StartA<TA>(ref TA a, int z, int v, int bm, int row0, int k0) where TA : struct, IGemmA
    {
        RunOf(a.KFast, v, bm, row0, k0, out int row, out int p);
        a.Start(z, row, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StartB<TB>(ref TB b, int z, int v, int bn, int col0, int k0) where TB : struct, IGemmB
    {
        RunOf(b.KFast, v, bn, col0, k0, out int col, out int p);
        b.Start(z, p, col);
    }

    /// <summary>Run <paramref name="v"/> of the A slab at <paramref name="k0"/>, zero outside op(A) and past <paramref name="kEnd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 FetchA<TA>(ref TA a, int v, int bm, int row0, int k0, int m, int kEnd) where TA : struct, IGemmA
    {
        RunOf(a.KFast, v, bm, row0, k0, out int row, out int p);
        return a.Fetch(Count(a.KFast, row, p, m, kEnd));
    }

    /// <summary>Run <paramref name="v"/> of the B slab at <paramref name="k0"/> (mirror of <see cref="FetchA"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Float4 FetchB<TB>(ref TB b, int v, int bn, int col0, int k0, int n, int kEnd) where TB : struct, IGemmB
    {
        RunOf(b.KFast, v, bn, col0, k0, out int col, out int p);
        return b.Fetch(Count(b.KFast, col, p, n, kEnd));
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
