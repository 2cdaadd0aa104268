using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long n, float alpha, float beta)
    {
        if (n > 0) _k.Unary(I(n), V(x), V(y), KernelCodes.Of(op), alpha, beta);
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long n, float alpha, float beta)
    {
        if (n > 0) _k.UnaryBackward(I(n), V(x), V(y), V(dy), V(dx), KernelCodes.Of(op), alpha, beta);
    }
}
