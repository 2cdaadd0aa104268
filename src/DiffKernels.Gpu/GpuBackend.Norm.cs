using DiffKernels.Backends;
using DiffKernels.Kernels;
using ILGPU;

namespace DiffKernels.Gpu;

// LayerNorm runs on the general GroupNorm kernels as N = rows, one position, one group of width d. GroupNorm
// takes the one-pass Cached kernels when a (sample, group) fits in shared memory and each thread of a group
// sees a single channel; the general kernels otherwise.
public sealed partial class GpuBackend
{
    private const int NormRowsPerChunk = 32;

    // Up to this many rows a column reduction is one pass (ReduceView's one-chunk case), so one thread per column
    // summing in order, as NormKernels.AffineSums does, gives the same sums.
    private const int AffineSumsRows = 256;

    private NormArgs Args(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd,
        long n, long spatial, int c, int groups, float eps, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, int filmStride = 0)
    {
        if ((scale == null) != (shift == null)) throw new ArgumentException("GroupNorm: FiLM scale and shift must be given together");
        if (filmStride != 0 && filmStride < c) throw new ArgumentException($"GroupNorm: FiLM row stride {filmStride} is below the {c} channels");
        var xv = V(x);
        return new NormArgs
        {
            X = xv, Gamma = gamma != null ? V(gamma) : xv, Beta = beta != null ? V(beta) : xv,
            Y = xv, Dy = xv, Dx = xv, Mean = V(mean), Rstd = V(rstd),
            Scale = scale != null ? V(scale) : xv, Shift = shift != null ? V(shift) : xv,
            N = I(n), Spatial = I(spatial), C = c, Groups = groups, FilmStride = filmStride == 0 ? c : filmStride, Eps = eps,
            HasGamma = gamma != null ? 1 : 0, HasBeta = beta != null ? 1 : 0, Silu = silu ? 1 : 0, HasFilm = scale != null ? 1 : 0,
        };
    }

    /// <summary>Whether a (sample, group) of this GroupNorm takes the one-pass Cached kernels.</summary>
    private bool NormCached(NormArgs a) =>
        _plan.ReduceGroup % a.GroupChannels == 0 && (long)a.Spatial * a.GroupChannels <= NormKernels.CacheFloats;

    /// <inheritdoc/>
    public void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        int n, long spatial, int c, int groups, float eps, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, int filmStride = 0)
    {
        var a = Args(x, gamma, beta, mean, rstd, n, spatial, c, groups, eps, silu, scale, shift, filmStride);
        a.Y = V(y);
        int items = a.N * a.Groups;
        if (items > 0 && a.Spatial > 0 && NormCached(a))
            _k.NormForwardCached(Groups(items, _plan.ReduceGroup, GroupReduce.MaxWarps + a.Spatial * a.GroupChannels), a);
        else NormForward(a);
    }

    /// <inheritdoc/>
    public void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu,
        DeviceBuffer? scale = null, DeviceBuffer? shift = null, DeviceBuffer? dscale = null, DeviceBuffer? dshift = null, int filmStride = 0)
    {
        var a = Args(x, gamma, beta, mean, rstd, n, spatial, c, groups, 0f, silu, scale, shift, filmStride);
        a.Dy = V(dy);
        a.Dx = V(dx);
        int items = a.N * a.Groups, plane = a.N * a.C;
        var xv = a.X;
        var dsv = dscale != null ? V(dscale) : xv;
        var dhv = dshift != null ? V(dshift) : xv;
        int filmOut = (dscale != null ? NormOutputs.Scale : 0) | (dshift != null ? NormOutputs.Shift : 0);
        if (items > 0 && a.Spatial > 0 && NormCached(a))
        {
            bool affine = dgamma != null || dbeta != null;
            using var part = Allocate(affine ? 2L * plane : 1).Lease();
            var pv = V(part.Buffer);
            int sharedFloats = GroupReduce.MaxWarps + Math.Max(a.Spatial * a.GroupChannels, 2 * _plan.ReduceGroup);
            _k.NormBackwardCached(Groups(items, _plan.ReduceGroup, sharedFloats), a, pv, dsv, dhv, (affine ? NormOutputs.Affine : 0) | filmOut);
            AffineSums(pv, a.N, a.C, dgamma, dbeta);
            return;
        }
        NormBackward(a, dgamma, dbeta);
        if (filmOut != 0 && plane > 0) _k.NormFilmGrads(plane, a, dsv, dhv, filmOut);
    }

    /// <inheritdoc/>
    public void LayerNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        long rows, int d, float eps)
    {
        var a = Args(x, gamma, beta, mean, rstd, rows, 1, d, 1, eps, false);
        a.Y = V(y);
        NormForward(a);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, long rows, int d)
    {
        var a = Args(x, gamma, null, mean, rstd, rows, 1, d, 1, 0f, false);
        a.Dy = V(dy);
        a.Dx = V(dx);
        NormBackward(a, dgamma, dbeta);
    }

    private void NormForward(NormArgs a)
    {
        int items = a.N * a.Groups;
        if (items == 0) return;
        _k.NormForward(Groups(items, _plan.ReduceGroup), a);
    }

    private void NormBackward(NormArgs a, DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        int items = a.N * a.Groups;
        if (items > 0 && a.Spatial > 0) _k.NormBackwardData(Groups(items, _plan.ReduceGroup), a);
        if (dgamma == null && dbeta == null) return;
        int rows = a.N * a.Spatial;
        if (rows == 0)
        {
            if (dgamma != null) Fill(dgamma, 0, a.C, 0f);
            if (dbeta != null) Fill(dbeta, 0, a.C, 0f);
            return;
        }
        // Per-channel partial sums over chunks of rows, then the chunk axis reduced in order.
        int chunks = (rows + NormRowsPerChunk - 1) / NormRowsPerChunk;
        using var part = Allocate(2L * chunks * a.C).Lease();
        var pv = V(part.Buffer);
        _k.NormAffinePartials(chunks * a.C, a, pv, NormRowsPerChunk, chunks);
        AffineSums(pv, chunks, a.C, dgamma, dbeta);
    }

    /// <summary>
    /// dγ and dβ (either may be null) as the column sums of their [rows, C] partials, stored one after the other in
    /// <paramref name="part"/>: one launch for both where a column reduction would take one pass (few rows, or
    /// columns enough to fill the device), else a chunked column reduction each.
    /// </summary>
    private void AffineSums(ArrayView<float> part, int rows, int c, DeviceBuffer? dgamma, DeviceBuffer? dbeta)
    {
        if (dgamma == null && dbeta == null) return;
        int plane = rows * c;
        if (c >= _plan.Parallelism || rows <= AffineSumsRows)
        {
            int outputs = (dgamma != null ? 1 : 0) | (dbeta != null ? 2 : 0);
            _k.NormAffineSums(2 * c, part, rows, c, dgamma != null ? V(dgamma) : part, dbeta != null ? V(dbeta) : part, outputs);
            return;
        }
        if (dgamma != null) ReduceView(ReduceCode.Sum, part.SubView(0, plane), V(dgamma), 1, rows, c);
        if (dbeta != null) ReduceView(ReduceCode.Sum, part.SubView(plane, plane), V(dbeta), 1, rows, c);
    }
}
