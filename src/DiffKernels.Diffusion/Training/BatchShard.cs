using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// This rank's rows [<see cref="Start"/>, <see cref="Start"/> + <see cref="Count"/>) of every batch of
/// <see cref="BatchSize"/>: rank r of N takes the r-th of N equal slices, so the union over ranks is the batch a single
/// process draws. Every random stream advances by the whole batch on every rank, which keeps the streams (and so a
/// checkpoint) independent of the world size: a run resumes with as many ranks as divide its batch.
/// </summary>
public readonly record struct BatchShard
{
    /// <summary>Rank <paramref name="rank"/> of <paramref name="worldSize"/>'s slice of batches of <paramref name="batchSize"/>.</summary>
    public BatchShard(int rank, int worldSize, int batchSize)
    {
        if (worldSize < 1 || rank < 0 || rank >= worldSize) throw new ArgumentException($"rank {rank} of {worldSize}: expected 0 ≤ rank < world size");
        if (batchSize % worldSize != 0)
            throw new ArgumentException($"batch {batchSize} does not split over {worldSize} ranks: give a --batch that {worldSize} divides");
        BatchSize = batchSize;
        Count = batchSize / worldSize;
        Start = rank * Count;
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>) of batches of
    /// <paramref name="batchSize"/>, any contiguous range (none at all included): e.g. the part of one block of a batch
    /// that a rank's rows cover.
    /// </summary>
    public static BatchShard Range(int start, int count, int batchSize)
    {
        if (start < 0 || count < 0 || start + count > batchSize)
            throw new ArgumentException($"rows [{start}, {start + count}) do not lie in a batch of {batchSize}");
        return new BatchShard(0, 1, batchSize) with { Start = start, Count = count };
    }

    /// <summary>Samples of the whole batch, over all ranks.</summary>
    public int BatchSize { get; }

    /// <summary>This rank's first row.</summary>
    public int Start { get; private init; }

    /// <summary>This rank's rows.</summary>
    public int Count { get; private init; }

    /// <summary>True when this rank holds the whole batch (one process).</summary>
    public bool Whole => Count == BatchSize;

    /// <summary>This rank's rows of a tensor (or null) holding the whole batch along axis 0; the tensor itself when whole.</summary>
    public Tensor? Rows(Tensor? batch) => batch == null || Whole ? batch : batch.Narrow(0, Start, Count);

    /// <summary>This rank's rows of a tensor holding the whole batch along axis 0.</summary>
    public Tensor RowsOf(Tensor batch) => Whole ? batch : batch.Narrow(0, Start, Count);

    /// <summary>
    /// This rank's rows of <c>generator.Normal([<see cref="BatchSize"/>, ..<paramref name="sample"/>])</c>, drawn alone
    /// at their Philox offset (each block of four values depends only on its counter) when the slice starts on a block,
    /// else drawn whole and cut; either way the generator then stands where the whole draw leaves it.
    /// </summary>
    public Tensor Normal(Generator generator, Shape sample, Device device)
    {
        Shape whole = [BatchSize, .. sample];
        if (Whole) return generator.Normal(whole, device);
        long start = Start * sample.Numel;
        if (start % 4 != 0) return generator.Normal(whole, device).Narrow(0, Start, Count);
        ulong offset = generator.Offset;
        var rows = new Generator(generator.Seed, offset + (ulong)(start / 4)).Normal([Count, .. sample], device);
        generator.Offset = offset + (ulong)((whole.Numel + 3) / 4);
        return rows;
    }
}
