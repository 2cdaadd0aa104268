using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Reductions of x viewed as [outer, reduce, inner] over the middle axis.</summary>
internal static class ReduceKernels
{
    /// <summary>inner = 1: one group per row; each thread folds a strided slice, then the group combines.</summary>
    [Kernel(grouped: true)]
    public static void Rows(ArrayView<float> x, ArrayView<float> y, int reduce, int op)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int row = Grid.IdxX;
        float acc = KernelMath.Identity(op);
        for (int r = Group.IdxX; r < reduce; r += Group.DimX) acc = KernelMath.Combine(op, acc, x[row * reduce + r]);
        acc = GroupReduce.Combine(op, acc, scratch);
        if (Group.IdxX == 0) y[row] = acc;
    }

    /// <summary>
    /// One thread per (outer, chunk, inner) column: folds <paramref name="chunk"/> consecutive rows of
    /// the reduced axis (coalesced along inner) into y viewed as [outer, chunks, inner]. With one chunk
    /// this is the whole reduction; otherwise the host reduces the chunk axis again.
    /// </summary>
    [Kernel]
    public static void Columns(Index1D t, ArrayView<float> x, ArrayView<float> y, int reduce, int inner, int chunk, int chunks, int op)
    {
        int i = t % inner, rest = t / inner;
        int ch = rest % chunks, o = rest / chunks;
        int r0 = ch * chunk, r1 = Math.Min(reduce, r0 + chunk);
        float acc = KernelMath.Identity(op);
        for (int r = r0; r < r1; r++) acc = KernelMath.Combine(op, acc, x[(o * reduce + r) * inner + i]);
        y[t] = acc;
    }
}
