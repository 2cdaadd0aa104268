using DiffKernels.Tensors;

namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// y = op(a, b) over <paramref name="shape"/> (y contiguous). <paramref name="aStrides"/> and
    /// <paramref name="bStrides"/> have the rank of <paramref name="shape"/>; a zero stride broadcasts.
    /// </summary>
    void Binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape);

    /// <summary>Reduces x viewed as [outer, reduce, inner] over its middle axis into y [outer, inner].</summary>
    void Reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, long outer, long reduce, long inner);
}
