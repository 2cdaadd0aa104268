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
                // Acquire: the fence sits between observing the last count and the reads of the other groups'
                // partials (after the barrier below), so those reads cannot be served before their stores.
                MemoryFence.DeviceLevel();
            }
            last[0] = isLast ? 1 : 0;
        }
        Group.Barrier();
        if (last[0] == 0) return;

        // A group is WarpsM × bn threads: thread t sums column t mod bn of rows t / bn, t / bn + WarpsM, ... of the
        // tile (a warp reads consecutive columns).
        var s = default(TS);
        int bm = 64 * s.WarpsM, bn = 32 * s.WarpsN;
        int col = Grid.IdxX * bn + t % bn, row0 = Grid.IdxY * bm;
        if (col >= c.Cols) return;
        int rowEnd = Math.Min(c.Rows, row0 + bm), plane = c.Rows * c.Cols;
        for (int row = row0 + t / bn; row < rowEnd; row += s.WarpsM)
        {
            float sum = 0f;
            int at = row * c.Cols + col;
            for (int z = 0; z < c.Splits; z++, at += plane) sum += c.Ws[at];
            c.Out.Store(0, row, col, sum);
        }
    }
}
