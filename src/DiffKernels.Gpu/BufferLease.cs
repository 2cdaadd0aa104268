using DiffKernels.Backends;

namespace DiffKernels.Gpu;

/// <summary>A scratch buffer released at the end of a using block (workspaces of multi-kernel ops).</summary>
internal readonly struct BufferLease(DeviceBuffer buffer) : IDisposable
{
    public DeviceBuffer Buffer { get; } = buffer;

    public void Dispose() => Buffer.Release();
}

internal static class BufferLeaseExtensions
{
    public static BufferLease Lease(this DeviceBuffer buffer) => new(buffer);
}
