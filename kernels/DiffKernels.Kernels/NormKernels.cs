using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Arguments of the normalisation kernels: x viewed as [N, Spatial, C] (channels last) with Groups
/// runs of C/Groups channels. LayerNorm is the case Spatial = 1, Groups = 1 (N rows of width C).
/// Gamma/Beta are read only when HasGamma/HasBeta are nonzero; with HasFilm ≠ 0 the affine output is
/// multiplied by 1 + Scale[n·FilmStride + c] and shifted by Shift[n·FilmStride + c] (FiLM: FilmStride is C, or
/// 2C for the halves of one [N, 2C] projection); Silu ≠ 0 applies SiLU last (flags are ints: kernel arguments
/// must be blittable).
/// </summary>
internal struct NormArgs
{
    public ArrayView<float> X, Gamma, Beta, Y, Mean, Rstd, Dy, Dx, Scale, Shift;
    public int N, Spatial, C, Groups, FilmStride;
    public float Eps;
    public int HasGamma, HasBeta, Silu, HasFilm;

    public readonly int GroupChannels => C / Groups;

    /// <summary>Address of element e (0 ≤ e &lt; Spatial·C/Groups) of (sample, group) item.</summary>
    public readonly int At(int item, int e)
    {
        int cg = C / Groups, g = item % Groups, n = item / Groups;
        return (n * Spatial + e / cg) * C + g * cg + e % cg;
    }

    public readonly float GammaAt(int ch) => HasGamma != 0 ? Gamma[ch] : 1f;

    public readonly float BetaAt(int ch) => HasBeta != 0 ? Beta[ch] : 0f;

    /// <summary>1 + scale of sample n, channel ch with FiLM, else 1.</summary>
    public readonly float GainAt(int n, int ch) => HasFilm != 0 ? 1f + Scale[n * FilmStride + ch] : 1f;

    /// <summary>The FiLM step (identity without FiLM), then the activation.</summary>
    public readonly float Activate(float z, int n, int ch)
    {
        if (HasFilm != 0) z = z * (1f + Scale[n * FilmStride + ch]) + Shift[n * FilmStride + ch];
        return Silu != 0 ? KernelMath.Silu(z) : z;
    }

    /// <summary>The gradient at the FiLM output (the affine output without FiLM): dy, or dy·silu′(u).</summary>
    public readonly float Du(int at, int n, int ch, float xhat)
    {
        float du = Dy[at];
        if (Silu == 0) return du;
        float u = xhat * GammaAt(ch) + BetaAt(ch);
        if (HasFilm != 0) u = u * (1f + Scale[n * FilmStride + ch]) + Shift[n * FilmStride + ch];
        return du * KernelMath.SiluGrad(u);
    }

    /// <summary>The gradient at the affine output: du·(1 + scale).</summary>
    public readonly float Dz(int at, int n, int ch, float xhat) => Du(at, n, ch, xhat) * GainAt(n, ch);
}

/// <summary>Bits naming the gradients a normalisation backward kernel writes beside dx.</summary>
internal static class NormOutputs
{
    public const int Affine = 1, Scale = 2, Shift = 4;
}

/// <summary>
/// GroupNorm (+ affine, + FiLM, + SiLU, fused) and LayerNorm, forward and backward. Statistics: one
/// group of threads per (sample, group), two passes (mean, then the centred sum of squares) so the
/// variance does not cancel when |μ| ≫ σ. When a (sample, group) fits in <see cref="CacheFloats"/>
/// floats of shared memory the Cached kernels read x (forward) or x and dy (backward) from global
/// memory once and keep the per-(sample, channel) sums for dγ/dβ/dscale/dshift in the same launch;
/// otherwise the general kernels re-read global memory per pass and dγ/dβ come from per-channel
/// partial sums over chunks of rows. Every sum is combined in a fixed order (deterministic, no atomics).
/// </summary>
internal static class NormKernels
{
    /// <summary>Floats of shared memory a Cached kernel may hold for one (sample, group): 44 KB, within the portable 48 KB with the reduction scratch.</summary>
    public const int CacheFloats = 11 * 1024;

    /// <summary>
    /// One-pass forward: x of the (sample, group) is read once into shared memory, the mean and the centred
    /// sum of squares are taken from there, and y = act(FiLM(x̂·γ + β)) is written. Dynamic shared memory:
    /// MaxWarps + Spatial·C/Groups floats.
    /// </summary>
    [Kernel(grouped: true)]
    public static void ForwardCached(NormArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var scratch = shared.SubView(0, GroupReduce.MaxWarps);
        var cache = shared.SubView(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups, n = item / a.Groups;
        float s = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            float v = a.X[a.At(item, e)];
            cache[e] = v;
            s += v;
        }
        float mean = GroupReduce.Sum(s, scratch) / count;
        float sq = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            float dlt = cache[e] - mean;
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
            int ch = g * cg + e % cg;
            float z = (cache[e] - mean) * (rstd * a.GammaAt(ch)) + a.BetaAt(ch);
            a.Y[a.At(item, e)] = a.Activate(z, n, ch);
        }
    }

    /// <summary>
    /// One-launch backward of a (sample, group): the first pass reads x and dy once, keeps g = du·(1 + scale)·γ
    /// in shared memory and sums g, g·x̂ (for dx) and, per channel, du and du·x̂; the second writes
    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)). Each thread sees one channel (the group size is a multiple of
    /// C/Groups), so its channel sums are combined across the threads of that channel in thread order.
    /// Then by the bits of <paramref name="outputs"/> (<see cref="NormOutputs"/>): (1 + scale)·Σdu·x̂ and
    /// (1 + scale)·Σdu to part[n, c] and part[N + n, c] (dγ and dβ once summed over samples),
    /// dscale[n, c] = Σ du·(x̂·γ + β), dshift[n, c] = Σ du. Dynamic shared memory:
    /// MaxWarps + max(Spatial·C/Groups, 2·group size) floats.
    /// </summary>
    [Kernel(grouped: true)]
    public static void BackwardCached(NormArgs a, ArrayView<float> part, ArrayView<float> dscale, ArrayView<float> dshift, int outputs)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var scratch = shared.SubView(0, GroupReduce.MaxWarps);
        var cache = shared.SubView(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups, n = item / a.Groups;
        int t = Group.IdxX, ch = g * cg + t % cg;
        float mu = a.Mean[item], r = a.Rstd[item], gain = a.GainAt(n, ch), gam = a.GammaAt(ch);
        float sg = 0f, sgx = 0f, sdu = 0f, sdux = 0f;
        for (int e = t; e < count; e += Group.DimX)
        {
            int at = a.At(item, e);
            float xhat = (a.X[at] - mu) * r;
            float du = a.Du(at, n, ch, xhat);
            float gz = du * gain * gam;
            cache[e] = gz;
            sg += gz;
            sgx += gz * xhat;
            sdu += du;
            sdux += du * xhat;
        }
        float meanG = GroupReduce.Sum(sg, scratch) / count;
        float meanGX = GroupReduce.Sum(sgx, scratch) / count;
        for (int e = t; e < count; e += Group.DimX)
        {
            int at = a.At(item, e);
            float xhat = (a.X[at] - mu) * r;
            a.Dx[at] = r * (cache[e] - meanG - xhat * meanGX);
        }
        if (outputs == 0) return;
        Group.Barrier();
        cache[t] = sdu;
        cache[Group.DimX + t] = sdux;
        Group.Barrier();
        if (t >= cg) return;
        float s1 = 0f, s2 = 0f;
        for (int k = t; k < Group.DimX; k += cg)
        {
            s1 += cache[k];
            s2 += cache[Group.DimX + k];
        }
        int o = n * a.C + ch, plane = a.N * a.C;
        if ((outputs & NormOutputs.Affine) != 0)
        {
            part[o] = gain * s2;
            part[plane + o] = gain * s1;
        }
        int f = n * a.FilmStride + ch;
        if ((outputs & NormOutputs.Scale) != 0) dscale[f] = gam * s2 + a.BetaAt(ch) * s1;
        if ((outputs & NormOutputs.Shift) != 0) dshift[f] = s1;
    }

    /// <summary>
    /// dγ and dβ from their per-row partials <paramref name="part"/> ([rows, C] for γ, then [rows, C] for β), each
    /// channel's column summed over the rows in order, both in one launch (thread t: γ's channel t for t &lt; C, then
    /// β's); dγ is written when bit 1 of <paramref name="outputs"/> is set, dβ when bit 2 is. The same sums, in the same
    /// order, as a one-chunk column reduction of each half.
    /// </summary>
    [Kernel]
    public static void AffineSums(Index1D t, ArrayView<float> part, int rows, int c, ArrayView<float> dgamma, ArrayView<float> dbeta, int outputs)
    {
        int ch = t % c, half = t / c;
        if ((outputs & (1 << half)) == 0) return;
        int at = half * rows * c + ch;
        float acc = 0f;
        for (int r = 0; r < rows; r++) acc += part[at + r * c];
        if (half == 0) dgamma[ch] = acc;
        else dbeta[ch] = acc;
    }

    /// <summary>
    /// dscale[n, c] = Σ du·(x̂·γ + β) and dshift[n, c] = Σ du over the positions of sample n (thread t = n·C + c),
    /// each written when its <see cref="NormOutputs"/> bit is set: the general path's FiLM gradients.
    /// </summary>
    [Kernel]
    public static void FilmGrads(Index1D t, NormArgs a, ArrayView<float> dscale, ArrayView<float> dshift, int outputs)
    {
        int ch = t % a.C, n = t / a.C, item = n * a.Groups + ch / a.GroupChannels;
        float mu = a.Mean[item], r = a.Rstd[item], gam = a.GammaAt(ch), bet = a.BetaAt(ch);
        float ds = 0f, dh = 0f;
        for (int p = 0; p < a.Spatial; p++)
        {
            int at = (n * a.Spatial + p) * a.C + ch;
            float xhat = (a.X[at] - mu) * r;
            float du = a.Du(at, n, ch, xhat);
            ds += du * (xhat * gam + bet);
            dh += du;
        }
        int f = n * a.FilmStride + ch;
        if ((outputs & NormOutputs.Scale) != 0) dscale[f] = ds;
        if ((outputs & NormOutputs.Shift) != 0) dshift[f] = dh;
    }

    [Kernel(grouped: true)]
    public static void Forward(NormArgs a)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups, n = item / a.Groups;
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
            a.Y[at] = a.Activate(z, n, ch);
        }
    }

    /// <summary>dx = rstd·(γ·dz − mean(γ·dz) − x̂·mean(γ·dz·x̂)) over each (sample, group).</summary>
    [Kernel(grouped: true)]
    public static void BackwardData(NormArgs a)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int item = Grid.IdxX, cg = a.GroupChannels, count = a.Spatial * cg, g = item % a.Groups, n = item / a.Groups;
        float mu = a.Mean[item], r = a.Rstd[item];
        float sg = 0f, sgx = 0f;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = a.At(item, e), ch = g * cg + e % cg;
            float xhat = (a.X[at] - mu) * r;
            float gz = a.GammaAt(ch) * a.Dz(at, n, ch, xhat);
            sg += gz;
            sgx += gz * xhat;
        }
        float meanG = GroupReduce.Sum(sg, scratch) / count;
        float meanGX = GroupReduce.Sum(sgx, scratch) / count;
        for (int e = Group.IdxX; e < count; e += Group.DimX)
        {
            int at = a.At(item, e), ch = g * cg + e % cg;
            float xhat = (a.X[at] - mu) * r;
            a.Dx[at] = r * (a.GammaAt(ch) * a.Dz(at, n, ch, xhat) - meanG - xhat * meanGX);
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
            int n = row / a.Spatial, item = n * a.Groups + g, at = row * a.C + ch;
            float xhat = (a.X[at] - a.Mean[item]) * a.Rstd[item];
            float dz = a.Dz(at, n, ch, xhat);
            dg += dz * xhat;
            db += dz;
        }
        part[chunk * a.C + ch] = dg;
        part[(chunks + chunk) * a.C + ch] = db;
    }
}
