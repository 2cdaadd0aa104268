using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Arguments of the normalisation kernels: x viewed as [N, Spatial, C] (channels last) with Groups
/// runs of C/Groups channels. LayerNorm is the case Spatial = 1, Groups = 1 (N rows of width C).
/// Gamma/Beta are read only when HasGamma/HasBeta are nonzero; Silu ≠ 0 applies SiLU after the
/// affine step (flags are ints: kernel arguments must be blittable).
/// </summary>
internal struct NormArgs
{
    public ArrayView<float> X, Gamma, Beta, Y, Mean, Rstd, Dy, Dx;
    public int N, Spatial, C, Groups;
    public float Eps;
    public int HasGamma, HasBeta, Silu;

    public readonly int GroupChannels => C / Groups;

    /// <summary>Address of element e (0 ≤ e &lt; Spatial·C/Groups) of (sample, group) item.</summary>
    public readonly int At(int item, int e)
    {
        int cg = C / Groups, g = item % Groups, n = item / Groups;
        return (n * Spatial + e / cg) * C + g * cg + e % cg;
    }

    public readonly float GammaAt(int ch) => HasGamma != 0 ? Gamma[ch] : 1f;

    public readonly float BetaAt(int ch) => HasBeta != 0 ? Beta[ch] : 0f;

    /// <summary>The gradient at the affine output: dy, or dy·silu′(z) with z = x̂·γ + β.</summary>
    public readonly float Dz(int at, int ch, float xhat)
    {
        float dz = Dy[at];
        return Silu != 0 ? dz * KernelMath.SiluGrad(xhat * GammaAt(ch) + BetaAt(ch)) : dz;
    }
}

/// <summary>
/// GroupNorm (+ affine, + SiLU, fused) and LayerNorm, forward and backward. Statistics: one group of
/// threads per (sample, group), two passes (mean, then the centred sum of squares) so the variance
/// does not cancel when |μ| ≫ σ. dγ/dβ: per-channel partial sums over chunks of rows, combined by the
/// column reduction in chunk order (deterministic, no atomics).
/// </summary>
internal static class NormKernels
{
    [Kernel(grouped: true)]
    public static void Forward(NormArgs a)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups;
        float s = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX) s += a.X[a.At(item, e)];
        float mean = GroupReduce.Sum(s, scratch) / count;
        float sq = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            float dlt = a.X[a.At(item, e)] - mean;
            sq += dlt * dlt;
        }
        float rstd = 1f / MathF.Sqrt(GroupReduce.Sum(sq, scratch) / count + a.Eps);
        if (Group.IdxX == 0)
        {
            a.Mean[item] = mean;
            a.Rstd[item] = rstd;
        }
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = a.At(item, e), ch = g * cg + e % cg;
            float z = (a.X[at] - mean) * (rstd * a.GammaAt(ch)) + a.BetaAt(ch);
            a.Y[at] = a.Silu != 0 ? KernelMath.Silu(z) : z;
        }
    }

    /// <summary>dx = rstd·(γ·dz − mean(γ·dz) − x̂·mean(γ·dz·x̂)) over each (sample, group).</summary>
    [Kernel(grouped: true)]
    public static void BackwardData(NormArgs a)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups;
        float mu = a.Mean[item], r = a.Rstd[item];
        float sg = 0f, sgx = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = a.At(item, e), ch = g * cg + e % cg;
            float xhat = (a.X[at] - mu) * r;
            float gz = a.GammaAt(ch) * a.Dz(at, ch, xhat);
            sg += gz;
            sgx += gz * xhat;
        }
        float meanG = GroupReduce.Sum(sg, scratch) / count;
        float meanGX = GroupReduce.Sum(sgx, scratch) / count;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = a.At(item, e), ch = g * cg + e % cg;
            float xhat = (a.X[at] - mu) * r;
            a.Dx[at] = r * (a.GammaAt(ch) * a.Dz(at, ch, xhat) - meanG - xhat * meanGX);
        }
    }

    /// <summary>
    /// Partial dγ (Σ dz·x̂) and dβ (Σ dz) of channel t mod C over rows [chunk·rowsPerChunk, …) of the
    /// N·Spatial rows: part[chunk, ch] and part[chunks + chunk, ch].
    /// </summary>
    [Kernel]
    public static void AffinePartials(Index1D t, NormArgs a, ArrayView<float> part, int rowsPerChunk, int chunks)
    {
        int ch = t % a.C, chunk = t / a.C, g = ch / a.GroupChannels;
        int rows = a.N * a.Spatial, r0 = chunk * rowsPerChunk, r1 = Math.Min(rows, r0 + rowsPerChunk);
        float dg = 0f, db = 0f;
        for (int row = r0; row < r1; row++)
        {
            int item = row / a.Spatial * a.Groups + g, at = row * a.C + ch;
            float xhat = (a.X[at] - a.Mean[item]) * a.Rstd[item];
            float dz = a.Dz(at, ch, xhat);
            dg += dz * xhat;
            db += dz;
        }
        part[chunk * a.C + ch] = dg;
        part[(chunks + chunk) * a.C + ch] = db;
    }
}
