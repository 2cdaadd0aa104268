namespace DiffKernels.Backends.Cpu;

/// <summary>CPU storage: a pinned managed array (pinned so kernels may take raw pointers).</summary>
public sealed class CpuBuffer : DeviceBuffer
{
    internal CpuBuffer(CpuBackend backend, float[] data, long length) : base(backend, length) => Data = data;

    /// <summary>The backing array; it may be longer than <see cref="DeviceBuffer.Length"/>.</summary>
    public float[] Data { get; }

    /// <summary>The buffer's elements.</summary>
    public Span<float> Span => Data.AsSpan(0, (int)Length);

    /// <inheritdoc/>
    protected override void Free() => CpuArrayPool.Shared.Return(Data);
}
