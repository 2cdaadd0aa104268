namespace DiffKernels.Backends;

/// <summary>
/// Opaque float32 storage owned by a backend. Tensors share a buffer by reference counting
/// (Reshape, Detach); the buffer goes back to its backend when the last holder releases it.
/// A buffer may be a slice of another buffer of the same backend (<see cref="Slice"/>): it addresses
/// <see cref="Length"/> elements of its parent from <see cref="Offset"/>, and holds a reference on the
/// parent until it is freed itself, so the parent's memory outlives every slice of it.
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

    /// <summary>
    /// Creates a slice of <paramref name="length"/> elements of <paramref name="parent"/> from <paramref name="offset"/>,
    /// with one reference, taking one on the parent (released when the slice is freed).
    /// </summary>
    protected DeviceBuffer(DeviceBuffer parent, long offset, long length)
    {
        parent.AddRef();
        Backend = parent.Backend;
        Parent = parent;
        Offset = offset;
        Length = length;
    }

    /// <summary>The backend that owns the memory.</summary>
    public IBackend Backend { get; }

    /// <summary>Length in float32 elements.</summary>
    public long Length { get; }

    /// <summary>The buffer this one is a slice of, or null for an allocation of its own.</summary>
    public DeviceBuffer? Parent { get; }

    /// <summary>Where this slice starts in <see cref="Parent"/>, in elements (0 for an allocation of its own).</summary>
    public long Offset { get; }

    /// <summary>True once the last reference was released.</summary>
    public bool IsReleased => Volatile.Read(ref _refs) <= 0;

    /// <summary>True while more than one holder references the buffer (a view or a slice shares it).</summary>
    internal bool IsShared => Volatile.Read(ref _refs) > 1;

    /// <summary>Adds a holder.</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was already released");
    }

    /// <summary>Drops a holder; the last one frees the memory (a slice's last one releases its parent).</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        Free();
        Parent?.Release();
    }

    /// <summary>
    /// A buffer over <paramref name="length"/> elements of this one from <paramref name="offset"/>, sharing its memory,
    /// with one reference held by the caller; it keeps this buffer alive until released.
    /// </summary>
    public DeviceBuffer Slice(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Backend.Name} buffer: slice [{offset}, {offset} + {length}) is outside its {Length} elements");
        if (IsReleased) throw new ObjectDisposedException(nameof(DeviceBuffer), "buffer was already released");
        return CreateSlice(offset, length);
    }

    /// <summary>The backend's slice of this buffer (arguments already checked).</summary>
    protected abstract DeviceBuffer CreateSlice(long offset, long length);

    /// <summary>Returns the memory to the backend (pool or driver); a slice has none of its own to return.</summary>
    protected abstract void Free();
}
