namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>Bytes of released buffers the backend keeps to hand out again (bounded; see the pool's remarks).</summary>
    public long PooledBytes => CpuArrayPool.Shared.PooledBytes;

    /// <summary>
    /// Drops the buffers kept for reuse and collects them, so the memory goes back to the system: between workloads of
    /// other shapes (the next one would not reuse them) and before measuring a workload's own peak memory.
    /// </summary>
    public void ReleasePooledMemory() => CpuArrayPool.Shared.Trim();
}
