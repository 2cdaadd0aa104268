using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, long outer, long axis, long inner, bool log)
    {
        if (inner == 1 && axis >= 4 * _plan.WarpSize) _k.SoftmaxRows(Groups(I(outer), _plan.ReduceGroup), V(x), V(y), I(axis), log ? 1 : 0);
        else _k.SoftmaxColumns(I(outer * inner), V(x), V(y), I(axis), I(inner), log ? 1 : 0);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long outer, long axis, long inner, bool log)
    {
        if (inner == 1 && axis >= 4 * _plan.WarpSize) _k.SoftmaxBackwardRows(Groups(I(outer), _plan.ReduceGroup), V(y), V(dy), V(dx), I(axis), log ? 1 : 0);
        else _k.SoftmaxBackwardColumns(I(outer * inner), V(y), V(dy), V(dx), I(axis), I(inner), log ? 1 : 0);
    }
}
