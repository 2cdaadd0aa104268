using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Per-call scalars of the fused Adam update, folded on the host (bias corrections in double).</summary>
internal struct AdamScalars
{
    public float Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, StepSize, InvSqrtBc2, Eps, L2, Shrink;
}

/// <summary>Fused optimiser updates (one thread per parameter element) and the gradient norm's sum of squares.</summary>
internal static class OptimKernels
{
    /// <summary>Adam/AdamW: moments and parameter updated in place in one read and one write of each.</summary>
    [Kernel]
    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamScalars c)
    {
        float pi = p[i];
        float gi = g[i] + c.L2 * pi;
        float mi = c.Beta1 * m[i] + c.OneMinusBeta1 * gi;
        float vi = c.Beta2 * v[i] + c.OneMinusBeta2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        p[i] = pi * c.Shrink - c.StepSize * mi / (MathF.Sqrt(vi) * c.InvSqrtBc2 + c.Eps);
    }

    /// <summary>dst ← dst·(1 − w) + src·w (EMA shadows).</summary>
    [Kernel]
    public static void Lerp(Index1D i, ArrayView<float> dst, ArrayView<float> src, float w) => dst[i] = dst[i] * (1f - w) + src[i] * w;

    /// <summary>
    /// <see cref="Adam"/> on the gradient times <paramref name="gradScale"/> (clipping), then, when <paramref name="ema"/>
    /// is not 0, the shadow moved towards the new value as <see cref="Lerp"/> moves it: the optimiser step of a whole
    /// parameter arena and its EMA in one read and one write of each buffer.
    /// </summary>
    [Kernel]
    public static void AdamEma(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, ArrayView<float> shadow,
        AdamScalars c, float gradScale, float w, int ema)
    {
        float pi = p[i];
        float gi = g[i] * gradScale + c.L2 * pi;
        float mi = c.Beta1 * m[i] + c.OneMinusBeta1 * gi;
        float vi = c.Beta2 * v[i] + c.OneMinusBeta2 * (gi * gi);
        m[i] = mi;
        v[i] = vi;
        float updated = pi * c.Shrink - c.StepSize * mi / (MathF.Sqrt(vi) * c.InvSqrtBc2 + c.Eps);
        p[i] = updated;
        if (ema != 0) shadow[i] = shadow[i] * (1f - w) + updated * w;
    }

    /// <summary>
    /// One group per chunk of <paramref name="chunk"/> elements of x[0, n): the sum of the chunk's squares into
    /// partial[chunk index], each thread folding a fixed strided slice and the group combining them in warp order, so
    /// the result depends on n and the group size alone (the chunk sums are then reduced again by one group).
    /// </summary>
    [Kernel(grouped: true)]
    public static void SquaresRows(ArrayView<float> x, ArrayView<float> partial, int n, int chunk)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int row = Grid.IdxX;
        int start = row * chunk, end = Math.Min(n, start + chunk);
        float acc = 0f;
        for (int i = start + Group.IdxX; i < end; i += Group.DimX)
        {
            float xi = x[i];
            acc += xi * xi;
        }
        acc = GroupReduce.Sum(acc, scratch);
        if (Group.IdxX == 0) partial[row] = acc;
    }
}
