using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// Page-locked staging memory for host-to-device copies that do not wait. An upload copies its span into the
/// next free part of the ring (a host memcpy) and queues an asynchronous copy from there on the backend's stream;
/// the caller's span is free again as soon as <see cref="TryUpload"/> returns, and the host never waits for the
/// device. A copy from pageable memory cannot do that: the driver must finish reading the span before the call
/// returns, which on CUDA's legacy default stream also waits for every kernel queued before it.
/// <para>
/// Why no queued copy ever reads overwritten bytes: between two points at which the stream is known to have passed
/// every copy queued from the ring so far, each part of the ring is handed to at most one copy. The host writes a
/// part only when it hands it out, so it never writes bytes that a queued, possibly unfinished, copy will read.
/// Such a point is a synchronisation made here when the ring is full (<see cref="TryUpload"/>), or one the backend
/// made anyway and reports through <see cref="Passed"/> with the <see cref="Mark"/> it took before queuing the work
/// it waited for. Reservation, host write and queuing happen under one lock, so a mark covers every copy reserved
/// before it.
/// </para>
/// </summary>
internal sealed class UploadRing(Accelerator accelerator, AcceleratorStream stream, int capacity) : IDisposable
{
    private readonly PageLockedArray1D<float> _memory = accelerator.AllocatePageLocked1D<float>(capacity, uninitialized: true);
    private readonly object _lock = new();
    private long _head;
    private long _reserved;

    /// <summary>The largest upload, in floats, that goes through the ring.</summary>
    public int Capacity => capacity;

    /// <summary>Times the ring was full and the host waited for the stream before reusing it.</summary>
    public long Waits { get; private set; }

    /// <summary>
    /// Stages <paramref name="src"/> and queues its copy into <paramref name="dst"/> (as long as src); false, and
    /// nothing done, when src is longer than the ring.
    /// </summary>
    public bool TryUpload(ReadOnlySpan<float> src, ArrayView<float> dst)
    {
        if (src.Length > capacity) return false;
        lock (_lock)
        {
            if (_head + src.Length > capacity)
            {
                stream.Synchronize();
                Waits++;
                _head = 0;
            }
            var part = _memory.Span.Slice((int)_head, src.Length);
            src.CopyTo(part);
            dst.CopyFrom(stream, _memory.ArrayView.SubView(_head, src.Length));
            _head += src.Length;
            _reserved++;
        }
        return true;
    }

    /// <summary>The count of copies reserved so far, to hand to <see cref="Passed"/> once the stream has passed what was queued after it.</summary>
    public long Mark()
    {
        lock (_lock) return _reserved;
    }

    /// <summary>
    /// Tells the ring the stream has passed work queued after <paramref name="mark"/> was taken: when no copy was
    /// reserved since, every staged copy has finished and the whole ring is free.
    /// </summary>
    public void Passed(long mark)
    {
        lock (_lock)
            if (_reserved == mark) _head = 0;
    }

    /// <summary>Frees the page-locked memory (the stream must have finished its copies).</summary>
    public void Dispose() => _memory.Dispose();
}
