using DiffKernels.Kernels;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Gpu;

/// <summary>
/// Group shapes and tile sizes for one accelerator, fixed at backend creation. A real GPU gets
/// 256-thread groups; the emulator gets 16-thread groups and small tiles for the general attention
/// path, so tests on small shapes still cross several tiles and their edges. GEMM tile shapes are
/// compile-time (128 × 128 on 256 threads or 64 × 64 on 64, <see cref="IGemmShape"/>) and the same
/// everywhere, the emulator included; the plan picks one per product. So are the tiled attention
/// kernels' (<see cref="AttentionKernels"/>, 128 threads). Every grouped kernel keeps within 48 KB of
/// shared memory, the portable per-group limit.
/// </summary>
internal sealed class LaunchPlan
{
    public const int SharedBytes = 48 * 1024;

    /// <summary>Threads per group of the non-GEMM kernels on the emulator, whose device allows 256 only for the GEMM's sake.</summary>
    public const int EmulatorGroup = 16;

    public LaunchPlan(Accelerator acc)
    {
        WarpSize = acc.WarpSize;
        bool emulator = acc.AcceleratorType == AcceleratorType.CPU;
        int max = Math.Min(acc.MaxNumThreadsPerGroup, emulator ? EmulatorGroup : 256);
        ReduceGroup = Math.Max(WarpSize, max / WarpSize * WarpSize);
        AttentionGroup = ReduceGroup >= 128 ? 128 : ReduceGroup;
        AttentionMaxTile = max >= 256 ? 32 : 8;
        _attentionTiled = acc.MaxNumThreadsPerGroup >= AttentionKernels.BackwardThreads && WarpSize >= 4;
        Multiprocessors = Math.Max(1, acc.NumMultiprocessors);
        Parallelism = Multiprocessors * Math.Max(WarpSize, emulator ? EmulatorGroup : acc.MaxNumThreadsPerMultiprocessor);
        TargetGroups = 2 * Multiprocessors;
        TensorCoresMissing = acc switch
        {
            CudaAccelerator cuda when cuda.Architecture >= CudaArchitecture.SM_80 => null,
            CudaAccelerator cuda => $"{cuda.Name} is {cuda.Architecture}; the TF32 mma needs compute capability 8.0 or newer",
            _ when emulator => null,
            _ => $"{acc.AcceleratorType} accelerators have no mma instruction (only CUDA, or cpu-emulator with the C# twin)",
        };
        TensorTwin = emulator;
    }

    /// <summary>
    /// Why the TF32 tensor-core GEMM cannot run here, or null when it can: on CUDA from compute capability 8.0
    /// (inline mma.sync), and on the emulator, which runs its C# twin.
    /// </summary>
    public string? TensorCoresMissing { get; }

    /// <summary>True where the tensor-core GEMM runs as its C# twin (the emulator) rather than inline PTX.</summary>
    public bool TensorTwin { get; }

    public int WarpSize { get; }

    /// <summary>Threads of a 1-D group for row reductions, norms and softmax.</summary>
    public int ReduceGroup { get; }

    public int Multiprocessors { get; }

    /// <summary>
    /// Whether a rows × cols product takes the 128 × 128 tiles: when they alone give every
    /// multiprocessor a group; smaller products take 64 × 64 tiles, four times the groups.
    /// </summary>
    public bool GemmLarge(int rows, int cols) => GemmTiles(rows, cols, true) >= Multiprocessors;

    /// <summary>Output tiles of a rows × cols product at the large or small shape.</summary>
    public static long GemmTiles(int rows, int cols, bool large)
    {
        var (bm, bn, _) = GemmShape(large);
        return (long)((rows + bm - 1) / bm) * ((cols + bn - 1) / bn);
    }

    /// <summary>Tile rows, tile columns and threads of the large or small GEMM shape (as <see cref="GemmLarge"/> and GemmSmall define them).</summary>
    public static (int Bm, int Bn, int Threads) GemmShape(bool large) => large ? (128, 128, 256) : (64, 64, 64);

    /// <summary>
    /// The tile shape of a convolution's rows × cols product: the one matched to its width (128 × 32
    /// up to 32 columns, 128 × 64 up to 64, 128 × 128 beyond, so the 16-, 32- and 64-channel layers
    /// do not compute empty columns), falling back to smaller tiles while the product has fewer
    /// tiles than multiprocessors, unless <paramref name="splitsK"/> (the weight gradient fills the
    /// device by splitting its long k instead).
    /// </summary>
    public ConvTile ConvTileFor(int rows, int cols, bool splitsK)
    {
        ConvTile[] fits = cols <= 32 ? [ConvTile.Narrow, ConvTile.Small]
            : cols <= 64 ? [ConvTile.Mid, ConvTile.Small]
            : [ConvTile.Large, ConvTile.Mid, ConvTile.Small];
        if (splitsK) return fits[0];
        foreach (var tile in fits)
            if (Tiles(rows, cols, tile) >= Multiprocessors) return tile;
        return fits[^1];
    }

    /// <summary>Output tiles of a rows × cols product at a convolution tile shape.</summary>
    public static long Tiles(int rows, int cols, ConvTile tile)
    {
        var (bm, bn, _) = Shape(tile);
        return (long)((rows + bm - 1) / bm) * ((cols + bn - 1) / bn);
    }

    /// <summary>Tile rows, tile columns and threads of a convolution tile shape (as the IGemmShape structs define them).</summary>
    public static (int Bm, int Bn, int Threads) Shape(ConvTile tile) => tile switch
    {
        ConvTile.Large => (128, 128, 256),
        ConvTile.Mid => (128, 64, 128),
        ConvTile.Narrow => (128, 32, 64),
        _ => (64, 64, 64),
    };

    public int AttentionGroup { get; }
    public int AttentionMaxTile { get; }

    private readonly bool _attentionTiled;

    /// <summary>
    /// Whether attention with heads <paramref name="d"/> wide takes the tiled kernels (heads up to 64,
    /// groups of 256 threads, quad shuffles); the general kernels take the rest.
    /// </summary>
    public bool AttentionTiled(int d) => _attentionTiled && d <= 64;

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
    /// least <see cref="TargetGroups"/> groups run; each slice keeps at least two slabs of work. Only
    /// products of fewer than <see cref="TargetGroups"/> tiles split (the bound of the backend's tile counters).
    /// </summary>
    public (int Splits, int Chunk) SplitK(long tiles, int k)
    {
        const int bk = GemmTile.BK;
        if (tiles >= TargetGroups || k < 4 * bk) return (1, 0);
        int wanted = (int)Math.Min((TargetGroups + tiles - 1) / tiles, k / (2 * bk));
        if (wanted <= 1) return (1, 0);
        int chunk = (k + wanted - 1) / wanted;
        chunk = (chunk + bk - 1) / bk * bk;
        return ((k + chunk - 1) / chunk, chunk);
    }
}

/// <summary>The compile-time GEMM tile shapes a convolution can launch at (GemmLarge, GemmMid, GemmNarrow, GemmSmall).</summary>
internal enum ConvTile
{
    Large,
    Mid,
    Narrow,
    Small,
}
