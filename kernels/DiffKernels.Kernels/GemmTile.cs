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

/// <summary>
/// The arithmetic of the core on the staged slabs: which thread accumulates which block of C, from
/// which shared-memory words, and how the block is written at the end. <see cref="SimtMath"/> is
/// the FP32 FMA path; <see cref="TensorMath{TP, TU}"/> the TF32 tensor-core path on the same staging.
/// </summary>
internal interface IGemmMath
{
    /// <summary>Floats after each k row of a slab buffer (rows of bm or bn floats), chosen for the bank pattern of this math's shared loads.</summary>
    int Pad { get; }

    /// <summary>Places thread <paramref name="t"/> of a group of shape <typeparamref name="TS"/> on its block of the tile (before the main loop).</summary>
    void Start<TS>(int t) where TS : struct, IGemmShape;

    /// <summary>
    /// Accumulates one slab: op(A) at float <paramref name="aBuf"/> of <paramref name="sa"/> ([p][row], stride
    /// <paramref name="lda"/>), op(B) at <paramref name="bBuf"/> of <paramref name="sb"/> ([p][col], stride
    /// <paramref name="ldb"/>); the Float4 views are the same memory. Every thread of the group calls it.
    /// </summary>
    void Slab(ArrayView<float> sa, ArrayView<Float4> sa4, ArrayView<float> sb, ArrayView<Float4> sb4, int aBuf, int bBuf, int lda, int ldb);

    /// <summary>Writes this thread's block of C of matrix <paramref name="z"/>, the group's tile starting at (<paramref name="row0"/>, <paramref name="col0"/>), inside m × n.</summary>
    void Store<TC>(ref TC c, int z, int row0, int col0, int m, int n) where TC : struct, IGemmC;
}

/// <summary>
/// The shared-memory tiled product behind SGEMM and every convolution (implicit GEMM: the operand
/// readers gather patches on the fly, so no im2col matrix exists in global memory), at a tile shape
/// fixed at compile time (<see cref="IGemmShape"/>) and an arithmetic fixed at compile time
/// (<see cref="IGemmMath"/>: FP32 FMAs or TF32 tensor-core mma).
/// <para>
/// A group of 32·WarpsM·WarpsN threads computes a BM × BN = 64·WarpsM × 32·WarpsN tile of C, each
/// warp a 64 × 32 block of it; how a warp's lanes share their block is the math's.
/// </para>
/// <para>
/// Staging: each thread fetches its share of the next 8-deep slab as 128-bit global loads along the
/// operand's contiguous index (scalar, zero-padded loads at the edges of C or k and for unaligned
/// operands) into registers while the group computes on the current slab, then writes them to the
/// other of two shared buffers: one barrier per slab. A thread stages the same rows (or columns) of
/// every slab, one to four runs of four per operand, each through its own cursor over the operand
/// (<see cref="IGemmA"/>), positioned once before the main loop and advanced one slab per iteration.
/// Slabs are stored k-major ([p][row] and [p][col]); operands stored k-contiguous are transposed on
/// the way in, into rows padded by the math's <see cref="IGemmMath.Pad"/> floats (four for the FMA
/// path, so that the scattered stores of a warp fall in distinct banks).
/// </para>
/// Grid: (⌈n/BN⌉, ⌈m/BM⌉, batch or k-splits); group: (32·WarpsM·WarpsN, 1, 1).
/// </summary>
internal static class GemmTile
{
    /// <summary>Slab depth: split-K chunks are multiples of it.</summary>
    public const int BK = 8;

    /// <summary>
    /// Computes this group's tile. When <paramref name="kChunk"/> is positive, grid z selects the k range
    /// [z·kChunk, (z+1)·kChunk) (split-K); otherwise z is the batch index and k is whole.
    /// </summary>
    public static void Run<TS, TM, TA, TB, TC>(TA a, TB b, TC c, int m, int n, int k, int kChunk)
        where TS : struct, IGemmShape where TM : struct, IGemmMath where TA : struct, IGemmA where TB : struct, IGemmB where TC : struct, IGemmC
    {
        var s = default(TS);
        var math = default(TM);
        int bm = 64 * s.WarpsM, bn = 32 * s.WarpsN, threads = 32 * s.WarpsM * s.WarpsN;
        int lda = bm + math.Pad, ldb = bn + math.Pad, aStage = BK * lda, bStage = BK * ldb;
        var sa = SharedMemory.Allocate<float>(2 * BK * (64 * s.WarpsM + math.Pad));
        var sb = SharedMemory.Allocate<float>(2 * BK * (32 * s.WarpsN + math.Pad));
        var sa4 = sa.Cast<Float4>();
        var sb4 = sb.Cast<Float4>();

        int t = Group.IdxX;
        math.Start<TS>(t);
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

        int aBuf = 0, bBuf = 0;
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
            math.Slab(sa, sa4, sb, sb4, aBuf, bBuf, lda, ldb);
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

        math.Store(ref c, z, row0, col0, m, n);
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

    /// <summary>Writes up to four consecutive elements of row <paramref name="row"/> from <paramref name="col"/> on, those inside m × n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreRow<TC>(ref TC c, int z, int row, int col, int m, int n, float v0, float v1, float v2, float v3)
        where TC : struct, IGemmC
    {
        if (row >= m) return;
        if (col < n) c.Store(z, row, col, v0);
        if (col + 1 < n) c.Store(z, row, col + 1, v1);
        if (col + 2 < n) c.Store(z, row, col + 2, v2);
        if (col + 3 < n) c.Store(z, row, col + 3, v3);
    }
}
