using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// The caching allocator. ILGPU allocates synchronously through the driver, which would put a
/// device-wide allocation in every op; instead released buffers wait on free lists keyed by a size
/// bucket and are handed out again, so a warm training step allocates nothing from the driver.
/// Buckets are the powers of two with four steps between each (waste below 25%), 256 floats at least.
/// Reuse is safe without events because every kernel runs on the one stream, in order: work queued
/// after the release cannot overtake work that still reads the old contents.
/// </summary>
internal sealed class BufferPool(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = [];
    private readonly object _lock = new();
    private bool _disposed;
    private CaptureHold? _recording;
    private readonly List<CaptureHold> _holds = [];

    public long DriverAllocations { get; private set; }
    public long Reuses { get; private set; }
    public long CachedBytes { get; private set; }
    public long InUseBytes { get; private set; }

    /// <summary>The bucket (allocation length in floats) that serves a request of <paramref name="length"/> floats.</summary>
    public static long Bucket(long length)
    {
        if (length <= 256) return 256;
        long top = 1L << (63 - (int)long.LeadingZeroCount(length - 1));
        long step = top / 4;
        return (length + step - 1) / step * step;
    }

    public MemoryBuffer1D<float, Stride1D.Dense> Rent(long length)
    {
        long bucket = Bucket(length);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_recording is { } hold)
            {
                // A captured region reuses what it released itself first (its replays run in the same order), then the
                // free lists; the driver cannot allocate while a CUDA stream captures.
                var held = hold.TakeReleased(bucket) ?? TakeFree(bucket)
                    ?? throw new InvalidOperationException(
                        $"a captured region needs a new {bucket}-float buffer: run the region once before capturing it, so that the pool holds what it uses");
                InUseBytes += bucket * sizeof(float);
                hold.Rented.Add(held);
                return held;
            }
            if (TakeFree(bucket) is { } cached)
            {
                InUseBytes += bucket * sizeof(float);
                return cached;
            }
        }
        var memory = AllocateFromDriver(bucket);
        lock (_lock)
        {
            DriverAllocations++;
            InUseBytes += bucket * sizeof(float);
        }
        return memory;
    }

    private MemoryBuffer1D<float, Stride1D.Dense>? TakeFree(long bucket)
    {
        if (!_free.TryGetValue(bucket, out var stack) || stack.Count == 0) return null;
        Reuses++;
        CachedBytes -= bucket * sizeof(float);
        return stack.Pop();
    }

    private MemoryBuffer1D<float, Stride1D.Dense> AllocateFromDriver(long bucket)
    {
        try
        {
            return accelerator.Allocate1D<float>(bucket);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException)
        {
            // The cached buffers may be what stands in the way: give them back and try once more.
            ReleaseCached();
            return accelerator.Allocate1D<float>(bucket);
        }
    }

    public void Return(MemoryBuffer1D<float, Stride1D.Dense> memory)
    {
        lock (_lock)
        {
            // After the backend is gone its accelerator has freed everything already.
            if (_disposed) return;
            InUseBytes -= memory.Length * sizeof(float);
            // A buffer a captured region touched stays out of the free lists while its graph lives: a replay writes it again.
            var hold = _recording;
            // Every tensor release comes here: a plain loop, no closure, and none at all while no graph lives.
            foreach (var h in _holds)
                if (hold == null && h.Rented.Contains(memory)) hold = h;
            if (hold != null)
            {
                hold.Park(memory);
                return;
            }
            PushFree(memory);
        }
    }

    private void PushFree(MemoryBuffer1D<float, Stride1D.Dense> memory)
    {
        if (!_free.TryGetValue(memory.Length, out var stack)) _free[memory.Length] = stack = new();
        stack.Push(memory);
        CachedBytes += memory.Length * sizeof(float);
    }

    /// <summary>
    /// Starts tracking the buffers of a captured region: until <see cref="EndRecording"/> every buffer rented or
    /// released is the region's, and until the returned hold is released (<see cref="ReleaseHold"/>) none of them goes
    /// back to the free lists, so no one else is handed an address the region's replays write.
    /// </summary>
    public CaptureHold BeginRecording()
    {
        lock (_lock)
        {
            if (_recording != null) throw new InvalidOperationException("a captured region is already being recorded");
            _recording = new CaptureHold();
            _holds.Add(_recording);
            return _recording;
        }
    }

    /// <summary>Stops tracking new buffers; the hold keeps those it has.</summary>
    public void EndRecording()
    {
        lock (_lock) _recording = null;
    }

    /// <summary>The region's graph is gone: its released buffers return to the free lists, the others to their owners' care.</summary>
    public void ReleaseHold(CaptureHold hold)
    {
        lock (_lock)
        {
            if (!_holds.Remove(hold) || _disposed) return;
            foreach (var memory in hold.Parked) PushFree(memory);
        }
    }

    /// <summary>Gives every cached (free) buffer back to the driver.</summary>
    public void ReleaseCached()
    {
        List<MemoryBuffer1D<float, Stride1D.Dense>> drop;
        lock (_lock)
        {
            drop = _free.Values.SelectMany(s => s).ToList();
            _free.Clear();
            CachedBytes = 0;
        }
        foreach (var m in drop) m.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var hold in _holds)
                foreach (var memory in hold.Parked) PushFree(memory);
            _holds.Clear();
        }
        ReleaseCached();
        lock (_lock) _disposed = true;
    }
}
