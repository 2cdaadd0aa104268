using DiffKernels.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// Device memory of a <see cref="GpuBackend"/>: a pooled ILGPU buffer, possibly longer than the
/// tensor, that goes back to the backend's free lists (not to the driver) when released; or a slice of
/// another such buffer (a sub-view of its memory, which keeps the parent alive).
/// </summary>
public sealed class GpuBuffer : DeviceBuffer
{
    private readonly BufferPool? _pool;
    private readonly long _start;

    internal GpuBuffer(GpuBackend backend, BufferPool pool, MemoryBuffer1D<float, Stride1D.Dense> memory, long length)
        : base(backend, length)
    {
        _pool = pool;
        Memory = memory;
        View = ((ArrayView<float>)memory.View).SubView(0, length);
    }

    private GpuBuffer(GpuBuffer parent, long offset, long length) : base(parent, offset, length)
    {
        Memory = parent.Memory;
        _start = parent._start + offset;
        View = parent.View.SubView(offset, length);
    }

    /// <summary>The pooled allocation (its length is the pool bucket, at least <see cref="DeviceBuffer.Length"/>); a slice's is its root's.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>The buffer's <see cref="DeviceBuffer.Length"/> elements, as the kernels see them.</summary>
    internal ArrayView<float> View { get; }

    /// <summary>The device address of the buffer's first element (for native libraries such as NCCL).</summary>
    internal IntPtr Address => Memory.NativePtr + (nint)(_start * sizeof(float));

    /// <summary>Slices start at a multiple of this many elements: kernels load 4 floats at a time from 16-byte aligned addresses.</summary>
    public const int SliceAlignment = 4;

    /// <inheritdoc/>
    protected override DeviceBuffer CreateSlice(long offset, long length)
    {
        if ((_start + offset) % SliceAlignment != 0)
            throw new ArgumentException($"{Backend.Name} buffer: a slice must start at a multiple of {SliceAlignment} elements of its allocation (kernels load 4 floats at a time), not at {_start + offset}", nameof(offset));
        return new GpuBuffer(this, offset, length);
    }

    /// <inheritdoc/>
    protected override void Free() => _pool?.Return(Memory);
}
