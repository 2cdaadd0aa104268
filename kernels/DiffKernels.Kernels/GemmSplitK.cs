using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// The epilogue of a product whose k may be split over grid z (split-K). With <see cref="Splits"/> = 1 grid z is
/// the batch index and every element goes through <see cref="Out"/>. Otherwise grid z is the k-split: the core's
/// stores write split z's partial to Ws[z, row, col] (Rows × Cols per split), and <see cref="GemmSplitK.Reduce"/>
/// has the last group of each output tile sum the partials through <see cref="Out"/>.
/// </summary>
internal struct SplitKC<TC> : IGemmC where TC : struct, IGemmC
{
    /// <summary>The product's own epilogue (α/β, bias, weight-gradient layout).</summary>
    public TC Out;

    /// <summary>Splits × Rows × Cols partials (unused, and any view, when not split).</summary>
    public ArrayView<float> Ws;

    /// <summary>One arrival counter per output tile (index y·grid x + x), zero between launches.</summary>
    public ArrayView<int> Counters;

    public int Rows, Cols, Splits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int z, int row, int col, float acc)
    {
        if (Splits > 1) Ws[(z * Rows + row) * Cols + col] = acc;
        else Out.Store(z, row, col, acc);
    }
}

/// <summary>
/// Split-K in one launch, "the last group reduces": every group stores its partial tile, then counts itself on its
/// tile's counter; the group that arrives last (count splits − 1) sums the tile's partials, re-read from the
/// workspace in split order 0..splits−1 (the floats and the order of a separate combine pass, so the result is
/// deterministic and does not depend on which split finished last), and stores the sums through the epilogue. No
/// group ever waits for another: groups of one launch run in any order and need not be resident together.
/// </summary>
internal static class GemmSplitK
{
    /// <summary>
    /// Runs after <see cref="GemmTile.Run"/> in every group of a launch at tile shape <typeparamref name="TS"/>;
    /// returns at once when <paramref name="c"/> is not split.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Reduce<TS, TC>(SplitKC<TC> c) where TS : struct, IGemmShape where TC : struct, IGemmC
    {
        var last = SharedMemory.Allocate<int>(1);
        if (c.Splits <= 1) return;
        int t = Group.IdxX;

        // Release: each thread fences after its own partial stores, so they are visible device-wide before the
        // barrier, and so before thread 0's increment tells the tile's last group that this partial is complete.
        MemoryFence.DeviceLevel();
        Group.Barrier();
        if (t == 0)
        {
            int tile = Grid.IdxY * Grid.DimX + Grid.IdxX;
            bool isLast = Atomic.Add(ref c.Counters[tile], 1) == c.Splits - 1;
            if (isLast)
            {
                // Every split of the tile has counted itself, so nothing touches the counter again in this launch:
                // zero it for the next one (the stream orders launches).
                c.Counters[tile] = 0;
                // Acquire, in the thread that observed the last count: reads after this fence (and, through the
                // barrier below, the group's) see every partial whose increment was counted.
                MemoryFence.DeviceLevel();
            }
            last[0] = isLast ? 1 : 0;
        }
        Group.Barrier();
        if (last[0] == 0) return;
        // And in each reading thread, between learning (from the barrier) that all partials are in and reading them,
        // so that no read of another group's partial is served from before its store.
        MemoryFence.DeviceLevel();

        // A group is WarpsM × bn threads: thread t sums column t mod bn of rows t / bn, t / bn + WarpsM, ... of the
        // tile (a warp reads consecutive columns), eight rows at a time. Each row's sum runs over the splits in
        // order; the eight rows' loads are independent, so a thread keeps eight in flight rather than waiting on
        // each in turn: this one group reads the whole tile's partials.
        var s = default(TS);
        int bm = 64 * s.WarpsM, bn = 32 * s.WarpsN;
        int col = Grid.IdxX * bn + t % bn, row0 = Grid.IdxY * bm;
        if (col >= c.Cols) return;
        int rowEnd = Math.Min(c.Rows, row0 + bm), plane = c.Rows * c.Cols, d = s.WarpsM * c.Cols;
        for (int row = row0 + t / bn; row < rowEnd; row += 8 * s.WarpsM)
        {
            int live = 1;
            while (live < 8 && row + live * s.WarpsM < rowEnd) live++;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
            int at = row * c.Cols + col;
            for (int z = 0; z < c.Splits; z++, at += plane)
            {
                s0 += c.Ws[at];
                if (live > 1) s1 += c.Ws[at + d];
                if (live > 2) s2 += c.Ws[at + 2 * d];
                if (live > 3) s3 += c.Ws[at + 3 * d];
                if (live > 4) s4 += c.Ws[at + 4 * d];
                if (live > 5) s5 += c.Ws[at + 5 * d];
                if (live > 6) s6 += c.Ws[at + 6 * d];
                if (live > 7) s7 += c.Ws[at + 7 * d];
            }
            c.Out.Store(0, row, col, s0);
            if (live > 1) c.Out.Store(0, row + s.WarpsM, col, s1);
            if (live > 2) c.Out.Store(0, row + 2 * s.WarpsM, col, s2);
            if (live > 3) c.Out.Store(0, row + 3 * s.WarpsM, col, s3);
            if (live > 4) c.Out.Store(0, row + 4 * s.WarpsM, col, s4);
            if (live > 5) c.Out.Store(0, row + 5 * s.WarpsM, col, s5);
            if (live > 6) c.Out.Store(0, row + 6 * s.WarpsM, col, s6);
            if (live > 7) c.Out.Store(0, row + 7 * s.WarpsM, col, s7);
        }
    }
}
