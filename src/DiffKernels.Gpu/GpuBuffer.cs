using DiffKernels.Backends;
using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// Device memory of a <see cref="GpuBackend"/>: a pooled ILGPU buffer, possibly longer than the
/// tensor, that goes back to the backend's free lists (not to the driver) when released.
/// </summary>
public sealed class GpuBuffer : DeviceBuffer
{
    private readonly BufferPool _pool;

    internal GpuBuffer(GpuBackend backend, BufferPool pool, MemoryBuffer1D<float, Stride1D.Dense> memory, long length)
        : base(backend, length)
    {
        _pool = pool;
        Memory = memory;
        View = ((ArrayView<float>)memory.View).SubView(0, length);
    }

    /// <summary>The pooled allocation (its length is the pool bucket, at least <see cref="DeviceBuffer.Length"/>).</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>The first <see cref="DeviceBuffer.Length"/> elements, as the kernels see them.</summary>
    internal ArrayView<float> View { get; }

    /// <inheritdoc/>
    protected override void Free() => _pool.Return(Memory);
}
