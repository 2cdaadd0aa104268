using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Fill, strided copy, broadcasting binary ops, where, unary ops and their derivatives: one thread per output element.</summary>
internal static class ElementwiseKernels
{
    [Kernel]
    public static void Fill(Index1D i, ArrayView<float> y, int offset, float value) => y[offset + i] = value;

    /// <summary>dst[dstOff + offB(i)] = src[srcOff + offA(i)] (strides A: source, B: destination).</summary>
    [Kernel]
    public static void CopyStrided(Index1D i, ArrayView<float> src, int srcOff, ArrayView<float> dst, int dstOff, Layout5 l)
    {
        l.Offsets(i, out int a, out int b, out _);
        dst[dstOff + b] = src[srcOff + a];
    }

    /// <summary>y[i] = op(a[offA(i)], b[offB(i)]) with y contiguous: five div/rem steps per element.</summary>
    [Kernel]
    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Layout5 l, int op)
    {
        l.Offsets(i, out int oa, out int ob, out _);
        y[i] = KernelMath.Binary(op, a[oa], b[ob]);
    }

    /// <summary>
    /// y[i] = op(a[i·strideA], b[i·strideB]): the binary op over a layout that merges to one dimension
    /// (same-shaped contiguous operands, stride 1, or a broadcast scalar, stride 0), with no div/rem.
    /// </summary>
    [Kernel]
    public static void BinaryFlat(Index1D i, ArrayView<float> a, int strideA, ArrayView<float> b, int strideB, ArrayView<float> y, int op) =>
        y[i] = KernelMath.Binary(op, a[i * strideA], b[i * strideB]);

    /// <summary>y[i] = cond[offC(i)] ≠ 0 ? a[offA(i)] : b[offB(i)]; NaN counts as nonzero.</summary>
    [Kernel]
    public static void Where(Index1D i, ArrayView<float> cond, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Layout5 l)
    {
        l.Offsets(i, out int oa, out int ob, out int oc);
        y[i] = cond[oc] != 0f ? a[oa] : b[ob];
    }

    [Kernel]
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, int op, float alpha, float beta) =>
        y[i] = KernelMath.Unary(op, x[i], alpha, beta);

    [Kernel]
    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx,
        int op, float alpha, float beta) =>
        dx[i] = dy[i] * KernelMath.UnaryGrad(op, x[i], y[i], alpha, beta);
}
