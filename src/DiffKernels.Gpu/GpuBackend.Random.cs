using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void FillUniform(DeviceBuffer dst, long count, ulong seed, ulong offset)
    {
        if (count > 0) _k.Uniform(I((count + 3) / 4), V(dst), I(count), seed, offset);
    }

    /// <inheritdoc/>
    public void FillNormal(DeviceBuffer dst, long count, ulong seed, ulong offset, float mean, float std)
    {
        if (count > 0) _k.Normal(I((count + 3) / 4), V(dst), I(count), seed, offset, mean, std);
    }
}
