namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Pools pinned arrays by exact length: a training step allocates the same sizes every iteration,
/// so released buffers are reused without touching the GC. Bounded in total bytes; when a returned
/// array does not fit, the lengths rented least recently are dropped first, so a phase with other
/// shapes (a preview, an evaluation) cannot leave the pool full of arrays no later step asks for.
/// </summary>
/// <remarks>
/// An array the pool drops or never gets back is garbage only the GC can reclaim, and pinned arrays are
/// reclaimed only by full collections, which the runtime schedules by a budget that grows with the live
/// pool: left alone, gigabytes of dropped buffers stayed resident. So each time the arrays it allocated or
/// dropped add up to collectEveryBytes (<see cref="CollectEveryBytes"/> for the shared pool) the pool asks for a
/// full, non-compacting collection (cheap: float arrays hold no references, and the managed heap beside them is small).
/// </remarks>
internal sealed class CpuArrayPool(long maxPooledBytes, long collectEveryBytes)
{
    /// <summary>Bytes the shared pool holds at most.</summary>
    public const long MaxPooledBytes = 2L << 30;

    /// <summary>Bytes allocated or dropped between the collections the shared pool asks for.</summary>
    public const long CollectEveryBytes = 256L << 20;

    /// <summary>The pool of the CPU backend.</summary>
    public static CpuArrayPool Shared { get; } = new(MaxPooledBytes, CollectEveryBytes);

    private readonly Lock _gate = new();
    private readonly Dictionary<int, Bin> _bins = [];
    private long _pooledBytes;
    private long _clock;
    private long _churnBytes;

    /// <summary>Full collections this pool has asked for.</summary>
    public int Collections { get; private set; }

    private sealed class Bin(int length)
    {
        public readonly int Length = length;
        public readonly Stack<float[]> Arrays = new();
        public long LastRent;
    }

    /// <summary>Bytes held by the pool now (released arrays waiting to be rented again).</summary>
    public long PooledBytes
    {
        get { lock (_gate) return _pooledBytes; }
    }

    /// <summary>An array of exactly <paramref name="length"/> elements (at least one), contents undefined.</summary>
    public float[] Rent(int length)
    {
        length = Math.Max(length, 1);
        lock (_gate)
        {
            if (!_bins.TryGetValue(length, out var bin)) _bins[length] = bin = new Bin(length);
            bin.LastRent = ++_clock;
            if (bin.Arrays.TryPop(out var arr))
            {
                _pooledBytes -= Bytes(arr);
                return arr;
            }
        }
        CountChurn(Bytes(length));
        return GC.AllocateUninitializedArray<float>(length, pinned: true);
    }

    /// <summary>Gives <paramref name="arr"/> back for reuse; the caller must not touch it afterwards.</summary>
    public void Return(float[] arr)
    {
        long bytes = Bytes(arr), dropped = 0;
        lock (_gate)
        {
            if (!_bins.TryGetValue(arr.Length, out var bin)) _bins[arr.Length] = bin = new Bin(arr.Length);
            while (_pooledBytes + bytes > maxPooledBytes && LeastRecentlyRented(except: bin) is { } stale)
            {
                var evicted = stale.Arrays.Pop();
                _pooledBytes -= Bytes(evicted);
                dropped += Bytes(evicted);
                if (stale.Arrays.Count == 0) _bins.Remove(stale.Length);
            }
            if (_pooledBytes + bytes <= maxPooledBytes)
            {
                bin.Arrays.Push(arr);
                _pooledBytes += bytes;
            }
            else
            {
                dropped += bytes;
            }
        }
        if (dropped > 0) CountChurn(dropped);
    }

    /// <summary>
    /// Drops every pooled array and collects them aggressively, so their memory goes back to the system at once (a
    /// plain collection leaves freed regions committed for reuse): between unrelated workloads.
    /// </summary>
    public void Trim()
    {
        lock (_gate)
        {
            _bins.Clear();
            _pooledBytes = 0;
            _churnBytes = 0;
        }
        Collect(GCCollectionMode.Aggressive);
    }

    private Bin? LeastRecentlyRented(Bin except)
    {
        Bin? oldest = null;
        foreach (var b in _bins.Values)
            if (b != except && b.Arrays.Count > 0 && (oldest == null || b.LastRent < oldest.LastRent)) oldest = b;
        return oldest;
    }

    private void CountChurn(long bytes)
    {
        if (Interlocked.Add(ref _churnBytes, bytes) < collectEveryBytes) return;
        Interlocked.Exchange(ref _churnBytes, 0);
        Collect(GCCollectionMode.Forced);
    }

    private void Collect(GCCollectionMode mode)
    {
        // An aggressive collection must compact; pinned arrays stay where they are either way.
        GC.Collect(GC.MaxGeneration, mode, blocking: true, compacting: mode == GCCollectionMode.Aggressive);
        lock (_gate) Collections++;
    }

    private static long Bytes(float[] arr) => Bytes(arr.Length);

    private static long Bytes(int length) => (long)length * sizeof(float);
}
