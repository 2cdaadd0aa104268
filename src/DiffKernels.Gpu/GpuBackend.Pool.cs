using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Upsample2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        long count = 4L * n * h * w * c;
        if (count > 0) _k.Spread(I(count), V(x), V(y), h, w, c, 1f);
    }

    /// <inheritdoc/>
    public void Upsample2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        long count = (long)n * h * w * c;
        if (count > 0) _k.BlockSum(I(count), V(dy), V(dx), h, w, c, 1f);
    }

    /// <inheritdoc/>
    public void AvgPool2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        long count = (long)n * (h / 2) * (w / 2) * c;
        if (count > 0) _k.BlockSum(I(count), V(x), V(y), h / 2, w / 2, c, 0.25f);
    }

    /// <inheritdoc/>
    public void AvgPool2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        long count = (long)n * h * w * c;
        if (count > 0) _k.Spread(I(count), V(dy), V(dx), h / 2, w / 2, c, 0.25f);
    }
}
