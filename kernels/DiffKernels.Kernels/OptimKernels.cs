using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>Per-call scalars of the fused Adam update, folded on the host (bias corrections in double).</summary>
internal struct AdamScalars
{
    public float Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, StepSize, InvSqrtBc2, Eps, L2, Shrink;
}

/// <summary>Fused optimiser updates: one thread per parameter element.</summary>
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
}
