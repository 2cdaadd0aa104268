using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// Group shapes and tile sizes for one accelerator, fixed at backend creation. A real GPU gets
/// 256-thread groups and 64×64 GEMM tiles; the emulator (16 threads per group) gets 16×16 tiles and
/// small attention tiles, so tests on small shapes still cross several tiles and their edges.
/// Every grouped kernel keeps within 48 KB of shared memory, the portable per-group limit.
/// </summary>
internal sealed class LaunchPlan
{
    public const int SharedBytes = 48 * 1024;

    public LaunchPlan(Accelerator acc)
    {
        WarpSize = acc.WarpSize;
        int max = Math.Min(acc.MaxNumThreadsPerGroup, 256);
        ReduceGroup = Math.Max(WarpSize, max / WarpSize * WarpSize);
        int side = max >= 256 ? 16 : max >= 64 ? 8 : 4;
        GemmTx = GemmTy = side;
        GemmBk = side >= 16 ? 16 : 8;
        AttentionGroup = ReduceGroup >= 128 ? 128 : ReduceGroup;
        AttentionMaxTile = side >= 16 ? 32 : 8;
        Parallelism = Math.Max(1, acc.NumMultiprocessors) * Math.Max(WarpSize, acc.MaxNumThreadsPerMultiprocessor);
        TargetGroups = 2 * Math.Max(1, acc.NumMultiprocessors);
    }

    public int WarpSize { get; }

    /// <summary>Threads of a 1-D group for row reductions, norms and softmax.</summary>
    public int ReduceGroup { get; }

    /// <summary>GEMM group: TX × TY threads, tile 4·TY × 4·TX, slab depth BK.</summary>
    public int GemmTx { get; }
    public int GemmTy { get; }
    public int GemmBk { get; }
    public int GemmBm => 4 * GemmTy;
    public int GemmBn => 4 * GemmTx;

    /// <summary>Shared floats of one GEMM slab pair.</summary>
    public int GemmShared => GemmBk * (GemmBm + GemmBn);

    public int AttentionGroup { get; }
    public int AttentionMaxTile { get; }

    /// <summary>Threads the device runs at once: below this, a launch leaves the device partly idle.</summary>
    public int Parallelism { get; }

    /// <summary>Groups wanted in flight before a GEMM splits its k dimension.</summary>
    public int TargetGroups { get; }

    /// <summary>
    /// Query and key tile sizes for head width <paramref name="d"/>: the largest square tile (then
    /// halving the query side) whose shared footprint fits.
    /// </summary>
    public (int Bq, int Bk) AttentionTiles(int d, Func<int, int, int, int> sharedFloats)
    {
        int bq = AttentionMaxTile, bk = AttentionMaxTile;
        while (sharedFloats(d, bq, bk) * sizeof(float) > SharedBytes && (bq > 1 || bk > 1))
        {
            if (bq >= bk && bq > 1) bq /= 2;
            else bk /= 2;
        }
        if (sharedFloats(d, bq, bk) * sizeof(float) > SharedBytes)
            throw new NotSupportedException($"attention: head width {d} does not fit in {SharedBytes / 1024} KB of shared memory");
        return (bq, bk);
    }

    /// <summary>
    /// Number of k-slices for a product with <paramref name="tiles"/> output tiles over k, so that at
    /// least <see cref="TargetGroups"/> groups run; each slice keeps at least two slabs of work.
    /// </summary>
    public (int Splits, int Chunk) SplitK(long tiles, int k)
    {
        if (tiles >= TargetGroups || k < 4 * GemmBk) return (1, 0);
        int wanted = (int)Math.Min((TargetGroups + tiles - 1) / tiles, k / (2 * GemmBk));
        if (wanted <= 1) return (1, 0);
        int chunk = (k + wanted - 1) / wanted;
        chunk = (chunk + GemmBk - 1) / GemmBk * GemmBk;
        return ((k + chunk - 1) / chunk, chunk);
    }
}
