using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Where(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        long n = shape.Numel;
        if (n == 0) return;
        _k.Where(I(n), V(cond), V(a), V(b), V(y), Layouts.Of(shape, aStrides, bStrides, condStrides));
    }
}
