using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Softmax and log-softmax of x viewed as [outer, axis, inner] along the middle axis, and their backward.</summary>
internal static class SoftmaxKernels
{
    /// <summary>inner = 1: one group per row (max, then the sum of exponentials, then the write).</summary>
    [Kernel(grouped: true)]
    public static void Rows(ArrayView<float> x, ArrayView<float> y, int axis, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int o = Grid.IdxX * axis;
        float m = float.NegativeInfinity;
        for (int r = Group.IdxX; r < axis; r += Group.DimX) m = MathF.Max(m, x[o + r]);
        m = GroupReduce.Max(m, scratch);
        float s = 0f;
        for (int r = Group.IdxX; r < axis; r += Group.DimX) s += DeviceMath.Exp(x[o + r] - m);
        s = GroupReduce.Sum(s, scratch);
        if (log != 0)
        {
            float lse = m + DeviceMath.Log(s);
            for (int r = Group.IdxX; r < axis; r += Group.DimX) y[o + r] = x[o + r] - lse;
        }
        else
        {
            float inv = 1f / s;
            for (int r = Group.IdxX; r < axis; r += Group.DimX) y[o + r] = DeviceMath.Exp(x[o + r] - m) * inv;
        }
    }

    /// <summary>inner &gt; 1: one thread per (outer, inner) column, three passes along the axis.</summary>
    [Kernel]
    public static void Columns(Index1D t, ArrayView<float> x, ArrayView<float> y, int axis, int inner, int log)
    {
        int i = t % inner, o = t / inner;
        int first = o * axis * inner + i;
        float m = float.NegativeInfinity;
        for (int r = 0; r < axis; r++) m = MathF.Max(m, x[first + r * inner]);
        float s = 0f;
        for (int r = 0; r < axis; r++) s += DeviceMath.Exp(x[first + r * inner] - m);
        if (log != 0)
        {
            float lse = m + DeviceMath.Log(s);
            for (int r = 0; r < axis; r++) y[first + r * inner] = x[first + r * inner] - lse;
        }
        else
        {
            float inv = 1f / s;
            for (int r = 0; r < axis; r++) y[first + r * inner] = DeviceMath.Exp(x[first + r * inner] - m) * inv;
        }
    }

    /// <summary>Backward, inner = 1: g = Σ dy·y (softmax) or Σ dy (log-softmax) per row, then dx.</summary>
    [Kernel(grouped: true)]
    public static void BackwardRows(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int axis, int log)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int o = Grid.IdxX * axis;
        float g = 0f;
        for (int r = Group.IdxX; r < axis; r += Group.DimX) g += log != 0 ? dy[o + r] : dy[o + r] * y[o + r];
        g = GroupReduce.Sum(g, scratch);
        for (int r = Group.IdxX; r < axis; r += Group.DimX)
            dx[o + r] = log != 0 ? dy[o + r] - DeviceMath.Exp(y[o + r]) * g : (dy[o + r] - g) * y[o + r];
    }

    /// <summary>Backward, inner &gt; 1: one thread per column.</summary>
    [Kernel]
    public static void BackwardColumns(Index1D t, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int axis, int inner, int log)
    {
        int i = t % inner, o = t / inner;
        int first = o * axis * inner + i;
        float g = 0f;
        for (int r = 0; r < axis; r++)
        {
            int e = first + r * inner;
            g += log != 0 ? dy[e] : dy[e] * y[e];
        }
        for (int r = 0; r < axis; r++)
        {
            int e = first + r * inner;
            dx[e] = log != 0 ? dy[e] - DeviceMath.Exp(y[e]) * g : (dy[e] - g) * y[e];
        }
    }
}
