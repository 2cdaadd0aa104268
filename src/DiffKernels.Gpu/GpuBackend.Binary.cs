using DiffKernels.Backends;
using DiffKernels.Kernels;
using DiffKernels.Tensors;
using ILGPU;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// Layouts that merge to one dimension (contiguous same-shaped operands, a broadcast scalar) take
    /// the flat kernel, which indexes by a multiply instead of the strided kernel's div/rem steps.
    /// </remarks>
    public void Binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        long n = shape.Numel;
        if (n == 0) return;
        var l = Layouts.Of(shape, aStrides, bStrides);
        if (Layouts.IsFlat(l)) _k.BinaryFlat(I(n), V(a), l.A4, V(b), l.B4, V(y), KernelCodes.Of(op));
        else _k.Binary(I(n), V(a), V(b), V(y), l, KernelCodes.Of(op));
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, long outer, long reduce, long inner) =>
        ReduceView(KernelCodes.Of(op), V(x), V(y), I(outer), I(reduce), I(inner));

    /// <summary>
    /// Reduction over views. Long rows (inner = 1) get a group each; otherwise one thread per column,
    /// and when columns are too few to fill the device the reduced axis is first cut into chunks whose
    /// partial results are reduced again (deterministic, no atomics).
    /// </summary>
    private void ReduceView(int op, ArrayView<float> x, ArrayView<float> y, int outer, int reduce, int inner)
    {
        int columns = outer * inner;
        if (columns == 0) return;
        if (reduce == 0)
        {
            _k.Fill(columns, y, 0, KernelMath.Identity(op));
            return;
        }
        if (inner == 1 && reduce >= 4 * _plan.WarpSize)
        {
            _k.ReduceRows(Groups(outer, _plan.ReduceGroup), x, y, reduce, op);
            return;
        }
        const int chunk = 64;
        if (columns >= _plan.Parallelism || reduce <= 4 * chunk)
        {
            _k.ReduceColumns(columns, x, y, reduce, inner, reduce, 1, op);
            return;
        }
        int chunks = (reduce + chunk - 1) / chunk;
        using var part = Allocate((long)outer * chunks * inner).Lease();
        var pv = V(part.Buffer);
        _k.ReduceColumns(columns * chunks, x, pv, reduce, inner, chunk, chunks, op);
        ReduceView(op, pv, y, outer, chunks, inner);
    }
}
