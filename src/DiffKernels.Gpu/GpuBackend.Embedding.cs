using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void TimestepEmbedding(DeviceBuffer t, DeviceBuffer y, int n, int half, float maxPeriod)
    {
        long count = (long)n * half;
        if (count > 0) _k.Embedding(I(count), V(t), V(y), half, Math.Log(maxPeriod));
    }

    /// <inheritdoc/>
    public void TimestepEmbeddingBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dt, int n, int half, float maxPeriod)
    {
        if (n > 0) _k.EmbeddingBackward(n, V(y), V(dy), V(dt), half, Math.Log(maxPeriod));
    }
}
