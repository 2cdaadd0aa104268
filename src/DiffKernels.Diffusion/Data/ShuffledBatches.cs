using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// Endless shuffled batches of an <see cref="ImageDataset"/>, reproducible from a seed: epoch e uses
/// the permutation that sorts N uniforms drawn by a Philox <see cref="Generator"/> at (seed, e·⌈N/4⌉),
/// and each epoch is cut into ⌊N/B⌋ full batches (the remainder is dropped, so batch shapes never
/// change). Batch k of the whole stream is a pure function of (seed, k): resuming needs only
/// <see cref="Step"/>.
/// </summary>
public sealed class ShuffledBatches
{
    private readonly ImageDataset _data;
    private int[]? _perm;
    private long _permEpoch = -1;

    /// <summary>Serves batches of <paramref name="batchSize"/> images from <paramref name="data"/>, shuffled by <paramref name="seed"/>.</summary>
    public ShuffledBatches(ImageDataset data, int batchSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (batchSize < 1 || batchSize > data.Count)
            throw new ArgumentException($"ShuffledBatches: batch size {batchSize} must be in 1..{data.Count} (the dataset size)");
        _data = data;
        BatchSize = batchSize;
        Seed = seed;
    }

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The shuffling seed.</summary>
    public ulong Seed { get; }

    /// <summary>Full batches per epoch.</summary>
    public int BatchesPerEpoch => _data.Count / BatchSize;

    /// <summary>Index of the next batch <see cref="Next"/> returns (batches served so far); set it to resume.</summary>
    public long Step { get; set; }

    /// <summary>The epoch the next batch belongs to.</summary>
    public long Epoch => Step / BatchesPerEpoch;

    /// <summary>Returns batch <see cref="Step"/> and advances.</summary>
    public (Tensor Images, Tensor Labels) Next(Device? device = null) => At(Step++, device);

    /// <summary>Batch <paramref name="step"/> of the stream, without moving <see cref="Step"/>.</summary>
    public (Tensor Images, Tensor Labels) At(long step, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        long epoch = step / BatchesPerEpoch;
        int k = (int)(step % BatchesPerEpoch);
        return _data.Batch(Order(epoch).AsSpan(k * BatchSize, BatchSize), device);
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the images (a copy).</summary>
    public int[] Permutation(long epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return (int[])Order(epoch).Clone();
    }

    private int[] Order(long epoch)
    {
        if (_permEpoch != epoch)
        {
            int n = _data.Count;
            var gen = new Generator(Seed, (ulong)epoch * (ulong)((n + 3) / 4));
            float[] keys;
            using (var u = gen.Uniform([n], Device.Cpu)) keys = u.ToArray();
            var perm = Enumerable.Range(0, n).ToArray();
            // Index as tie-break keeps the order total, hence identical everywhere.
            Array.Sort(perm, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
            _perm = perm;
            _permEpoch = epoch;
        }
        return _perm!;
    }
}
