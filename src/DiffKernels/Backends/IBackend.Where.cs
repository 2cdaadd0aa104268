using DiffKernels.Tensors;

namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// y = cond ≠ 0 ? a : b over <paramref name="shape"/> (y contiguous). The stride arrays have the
    /// rank of <paramref name="shape"/>; a zero stride broadcasts. NaN in cond counts as nonzero.
    /// </summary>
    void Where(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape);
}
