using DiffKernels.Tensors;

namespace DiffKernels.Random;

/// <summary>
/// A reproducible source of random tensors over the Philox4x32-10 stream keyed by <see cref="Seed"/>.
/// Every draw of n elements reads blocks [Offset, Offset + ⌈n/4⌉) and then advances <see cref="Offset"/>
/// by ⌈n/4⌉, so a (seed, offset) pair fully determines the next draws on every backend, and saving and
/// restoring <see cref="Offset"/> resumes the stream exactly. Draws whose sizes are multiples of 4
/// concatenate to the same values as one large draw. Thread-safe: concurrent draws get disjoint ranges.
/// </summary>
public sealed class Generator
{
    private readonly object _lock = new();
    private ulong _offset;

    /// <summary>Creates a generator at block <paramref name="offset"/> of the stream for <paramref name="seed"/>.</summary>
    public Generator(ulong seed, ulong offset = 0)
    {
        Seed = seed;
        _offset = offset;
    }

    /// <summary>The Philox key.</summary>
    public ulong Seed { get; }

    /// <summary>The first Philox block (counter) the next draw uses.</summary>
    public ulong Offset
    {
        get { lock (_lock) return _offset; }
        set { lock (_lock) _offset = value; }
    }

    /// <summary>Samples of N(<paramref name="mean"/>, <paramref name="std"/>²) (Box–Muller, see IBackend.FillNormal).</summary>
    public Tensor Normal(Shape shape, Device? device = null, float mean = 0, float std = 1)
    {
        if (!float.IsFinite(mean) || !float.IsFinite(std) || std < 0)
            throw new ArgumentException($"Generator.Normal: mean {mean} and std {std} must be finite with std ≥ 0");
        var t = Tensor.Empty(shape, device);
        t.Backend.FillNormal(t.Storage, t.Numel, Seed, Take(t.Numel), mean, std);
        return t;
    }

    /// <summary>
    /// Uniform samples in [<paramref name="low"/>, <paramref name="high"/>): low + (high − low)·u with u in
    /// [0, 1) from IBackend.FillUniform (float rounding of the affine map may reach high when low ≠ 0 or high ≠ 1).
    /// </summary>
    public Tensor Uniform(Shape shape, Device? device = null, float low = 0, float high = 1)
    {
        if (!float.IsFinite(low) || !float.IsFinite(high) || low > high)
            throw new ArgumentException($"Generator.Uniform: bounds [{low}, {high}) must be finite with low ≤ high");
        var t = Tensor.Empty(shape, device);
        t.Backend.FillUniform(t.Storage, t.Numel, Seed, Take(t.Numel));
        if (low != 0 || high != 1)
        {
            t.Backend.Unary(Backends.UnaryOp.MulScalar, t.Storage, t.Storage, t.Numel, high - low, 0);
            t.Backend.Unary(Backends.UnaryOp.AddScalar, t.Storage, t.Storage, t.Numel, low, 0);
        }
        return t;
    }

    /// <summary>Reserves the blocks for <paramref name="count"/> elements and returns the first.</summary>
    private ulong Take(long count)
    {
        lock (_lock)
        {
            ulong start = _offset;
            _offset += RandomBits.Blocks(count);
            return start;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"Generator(seed={Seed}, offset={Offset})";
}
