namespace DiffKernels.Backends;

/// <summary>
/// Opaque float32 storage owned by a backend. Tensors share a buffer by reference counting
/// (Reshape, Detach); the buffer goes back to its backend when the last holder releases it.
/// </summary>
public abstract class DeviceBuffer
{
    private int _refs = 1;

    /// <summary>Creates a buffer of <paramref name="length"/> elements with one reference.</summary>
    protected DeviceBuffer(IBackend backend, long length)
    {
        Backend = backend;
        Length = length;
    }

    /// <summary>The backend that owns the memory.</summary>
    public IBackend Backend { get; }

    /// <summary>Length in float32 elements.</summary>
    public long Length { get; }

    /// <summary>True once the last reference was released.</summary>
    public bool IsReleased => Volatile.Read(ref _refs) <= 0;

    /// <summary>Adds a holder.</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was already released");
    }

    /// <summary>Drops a holder; the last one frees the memory.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Free();
    }

    /// <summary>Returns the memory to the backend (pool or driver).</summary>
    protected abstract void Free();
}
