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
            if (_free.TryGetValue(bucket, out var stack) && stack.Count > 0)
            {
                Reuses++;
                CachedBytes -= bucket * sizeof(float);
                InUseBytes += bucket * sizeof(float);
                return stack.Pop();
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
            if (!_free.TryGetValue(memory.Length, out var stack)) _free[memory.Length] = stack = new();
            stack.Push(memory);
            InUseBytes -= memory.Length * sizeof(float);
            CachedBytes += memory.Length * sizeof(float);
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
        ReleaseCached();
        lock (_lock) _disposed = true;
    }
}
