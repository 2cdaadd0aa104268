namespace DiffKernels.Gpu;

/// <summary>A snapshot of the GPU caching allocator.</summary>
/// <param name="DriverAllocations">Buffers obtained from the driver since the backend was created.</param>
/// <param name="Reuses">Requests served from the free lists.</param>
/// <param name="CachedBytes">Bytes held on the free lists.</param>
/// <param name="InUseBytes">Bytes handed out and not yet released.</param>
public readonly record struct GpuMemoryStats(long DriverAllocations, long Reuses, long CachedBytes, long InUseBytes);
