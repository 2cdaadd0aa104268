using DiffKernels.Ops;

namespace DiffKernels.Tensors;

public sealed partial class Tensor
{
    /// <summary>Reorders the axes (see <see cref="F.Permute"/>).</summary>
    public Tensor Permute(params int[] perm) => F.Permute(this, perm);

    /// <summary>Swaps two axes (see <see cref="F.Transpose"/>).</summary>
    public Tensor Transpose(int axis0, int axis1) => F.Transpose(this, axis0, axis1);

    /// <summary>Elements [start, start + length) along an axis (see <see cref="F.Narrow"/>).</summary>
    public Tensor Narrow(int axis, int start, int length) => F.Narrow(this, axis, start, length);

    /// <summary>Elements start, start + step, ... before end along an axis (see <see cref="F.Slice"/>).</summary>
    public Tensor Slice(int axis, int start, int end, int step = 1) => F.Slice(this, axis, start, end, step);

    /// <summary>Inserts an axis of size 1 (see <see cref="F.Unsqueeze"/>).</summary>
    public Tensor Unsqueeze(int axis) => F.Unsqueeze(this, axis);

    /// <summary>Removes an axis of size 1 (see <see cref="F.Squeeze"/>).</summary>
    public Tensor Squeeze(int axis) => F.Squeeze(this, axis);

    /// <summary>Merges a range of axes into one (see <see cref="F.Flatten"/>).</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1) => F.Flatten(this, startAxis, endAxis);
}
