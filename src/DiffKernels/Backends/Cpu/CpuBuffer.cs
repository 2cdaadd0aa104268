namespace DiffKernels.Backends.Cpu;

/// <summary>
/// CPU storage: a pinned managed array (pinned so kernels may take raw pointers), or a slice of another CPU
/// buffer's array (a sub-buffer, which keeps its parent alive).
/// </summary>
public sealed class CpuBuffer : DeviceBuffer
{
    private readonly float[] _array;
    private readonly int _offset;

    internal CpuBuffer(CpuBackend backend, float[] array, long length) : base(backend, length) => _array = array;

    private CpuBuffer(CpuBuffer parent, long offset, long length) : base(parent, offset, length)
    {
        _array = parent._array;
        _offset = parent._offset + (int)offset;
    }

    /// <summary>The buffer's elements, indexed from the buffer's start whatever its offset in the backing array.</summary>
    public CpuFloats Data => new(_array, _offset, (int)Length);

    /// <summary>The buffer's elements.</summary>
    public Span<float> Span => _array.AsSpan(_offset, (int)Length);

    /// <inheritdoc/>
    protected override DeviceBuffer CreateSlice(long offset, long length) => new CpuBuffer(this, offset, length);

    /// <inheritdoc/>
    protected override void Free()
    {
        if (Parent == null) CpuArrayPool.Shared.Return(_array);
    }
}
