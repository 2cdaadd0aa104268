using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DiffKernels.Backends.Cpu;

// GroupNorm over NHWC works a sample at a time on blocks of NormBlockRows pixel rows (all C channels):
// per-channel values are tiled over the block so each vector call covers it, and per-channel partial
// sums stay in float over at most NormFlushRows positions before being added into double. Short groups
// (4 or 8 channels) thus vectorise as well as long ones. Per-group statistics come from the
// per-channel sums. Work is split by sample only, so results do not depend on the worker count.
public sealed partial class CpuBackend
{
    private const int NormFlushRows = 64;
    private const int NormBlockRows = 16;

    /// <inheritdoc/>
    public void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        int n, long spatial, int c, int groups, float eps, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, int filmStride = 0)
    {
        var film = FilmOf(scale, shift, c, filmStride);
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        var mv = ((CpuBuffer)mean).Data;
        var rv = ((CpuBuffer)rstd).Data;
        var gv = (gamma as CpuBuffer)?.Data;
        var bv = (beta as CpuBuffer)?.Data;
        int cg = c / groups;
        long count = spatial * cg;
        CpuParallel.For(n, spatial * c * 6, (s, e) =>
        {
            // Per-channel values are tiled over a block of rows so each vector call covers the block.
            var center = new float[NormBlockRows * c];
            var mul = new float[NormBlockRows * c];
            var add = new float[NormBlockRows * c];
            var acc = new float[NormBlockRows * c];
            var gain = film != null ? new float[NormBlockRows * c] : null;
            var offset = film != null ? new float[NormBlockRows * c] : null;
            var sums = new double[c];
            var mu = new double[groups];
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                // Sums are taken around a pivot from the data (each group's first value), so their terms
                // are of the order of the spread even when |μ| ≫ σ; the squares around the rounded mean.
                for (int j = 0; j < c; j++) center[j] = count > 0 ? xv[first + j / cg * cg] : 0f;
                Tile(center, c);
                ChannelSums(xv, first, spatial, c, center, acc, sums, squared: false);
                for (int g = 0; g < groups; g++)
                {
                    mu[g] = center[g * cg] + GroupSum(sums, g, cg) / count;
                    for (int j = g * cg; j < (g + 1) * cg; j++) center[j] = (float)mu[g];
                }
                Tile(center, c);
                ChannelSums(xv, first, spatial, c, center, acc, sums, squared: true);
                for (int g = 0; g < groups; g++)
                {
                    float muf = center[g * cg];
                    // Centring on the rounded mean adds exactly (μ − μf)² to the mean square; take it back out.
                    double residual = mu[g] - muf;
                    double variance = Math.Max(0, GroupSum(sums, g, cg) / count - residual * residual);
                    float r = (float)(1 / Math.Sqrt(variance + eps));
                    mv[ni * groups + g] = muf;
                    rv[ni * groups + g] = r;
                    for (int j = g * cg; j < (g + 1) * cg; j++)
                    {
                        mul[j] = r * (gv?[j] ?? 1f);
                        add[j] = (bv?[j] ?? 0f) - (float)residual * mul[j];
                    }
                }
                Tile(mul, c);
                Tile(add, c);
                if (film != null) film.Value.TileSample(ni, c, gain!, offset!);
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int len = (int)Math.Min(NormBlockRows, spatial - p0) * c, o = (int)(first + p0 * c);
                    NormaliseBlock(xv.AsSpan(o, len), center, mul, add, gain, offset, yv.AsSpan(o, len), silu);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu,
        DeviceBuffer? scale = null, DeviceBuffer? shift = null, DeviceBuffer? dscale = null, DeviceBuffer? dshift = null, int filmStride = 0)
    {
        var film = FilmOf(scale, shift, c, filmStride);
        long fs = film?.Stride ?? c;
        var dsv = (dscale as CpuBuffer)?.Data;
        var dhv = (dshift as CpuBuffer)?.Data;
        var xv = ((CpuBuffer)x).Data;
        var mv = ((CpuBuffer)mean).Data;
        var rv = ((CpuBuffer)rstd).Data;
        var gyv = ((CpuBuffer)dy).Data;
        var dxv = ((CpuBuffer)dx).Data;
        var gv = (gamma as CpuBuffer)?.Data;
        var bv = (beta as CpuBuffer)?.Data;
        int cg = c / groups, block = NormBlockRows * c;
        long count = spatial * cg;
        var gam = new float[block];
        var bet = new float[block];
        for (int j = 0; j < c; j++) (gam[j], bet[j]) = (gv?[j] ?? 1f, bv?[j] ?? 0f);
        Tile(gam, c);
        Tile(bet, c);
        // Per-(sample, channel) sums of du and du·x̂ (du: gradient at the FiLM output, which is the affine
        // output without FiLM) give the group terms of dx, dshift and dscale, and, weighted by the sample's
        // 1 + scale and summed over samples, dβ and dγ — all from the first pass, no cross-thread accumulation.
        var sumDz = new double[(long)n * c];
        var sumDzXhat = new double[(long)n * c];
        // With SiLU, du is first written into dx and then overwritten in place by the second pass.
        var dzv = silu ? dxv : gyv;
        CpuParallel.For(n, spatial * c * 12, (s, e) =>
        {
            var muC = new float[block];
            var rC = new float[block];
            var accDz = new float[block];
            var accDzXhat = new float[block];
            var meanG = new float[block];
            var meanGXhat = new float[block];
            var gain = film != null ? new float[block] : null;
            var offset = film != null ? new float[block] : null;
            // γ·(1 + scale): the gain from du to the normalised value, per sample with FiLM.
            var gamEff = film != null ? new float[block] : gam;
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                for (int j = 0; j < c; j++) (muC[j], rC[j]) = (mv[ni * groups + j / cg], rv[ni * groups + j / cg]);
                Tile(muC, c);
                Tile(rC, c);
                var sDz = sumDz.AsSpan((int)(ni * c), c);
                var sDzXhat = sumDzXhat.AsSpan((int)(ni * c), c);
                if (film != null)
                {
                    film.Value.TileSample(ni, c, gain!, offset!);
                    for (int j = 0; j < block; j++) gamEff[j] = gam[j] * gain![j];
                }
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int rows = (int)Math.Min(NormBlockRows, spatial - p0), len = rows * c, o = (int)(first + p0 * c);
                    BackwardBlock(xv.AsSpan(o, len), gyv.AsSpan(o, len), dxv.AsSpan(o, len), muC, rC, gam, bet, gain, offset, accDz, accDzXhat, silu);
                    if ((p0 + rows) % NormFlushRows == 0 || p0 + rows == spatial)
                    {
                        Flush(accDz, sDz);
                        Flush(accDzXhat, sDzXhat);
                    }
                }
                if (film != null)
                {
                    // dshift = Σ du, dscale = Σ du·(x̂·γ + β); then the sums become those of dz = du·(1 + scale).
                    for (int j = 0; j < c; j++)
                    {
                        if (dhv != null) dhv.Value[ni * fs + j] = (float)sDz[j];
                        if (dsv != null) dsv.Value[ni * fs + j] = (float)(gam[j] * sDzXhat[j] + bet[j] * sDz[j]);
                        sDz[j] *= gain![j];
                        sDzXhat[j] *= gain[j];
                    }
                }
                // With g = dz·γ: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) over the group; the means are
                // summed in double and applied in float, tiled like the other per-channel values.
                for (int g = 0; g < groups; g++)
                {
                    double mg = 0, mgx = 0;
                    for (int j = g * cg; j < (g + 1) * cg; j++)
                    {
                        mg += gam[j] * sDz[j];
                        mgx += gam[j] * sDzXhat[j];
                    }
                    for (int j = g * cg; j < (g + 1) * cg; j++) (meanG[j], meanGXhat[j]) = ((float)(mg / count), (float)(mgx / count));
                }
                Tile(meanG, c);
                Tile(meanGXhat, c);
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int len = (int)Math.Min(NormBlockRows, spatial - p0) * c, o = (int)(first + p0 * c);
                    GradientBlock(dzv.AsSpan(o, len), xv.AsSpan(o, len), muC, rC, gamEff, meanG, meanGXhat, dxv.AsSpan(o, len));
                }
            }
        });
        if (dgamma != null) SumOverSamples(sumDzXhat, ((CpuBuffer)dgamma).Data, n, c);
        if (dbeta != null) SumOverSamples(sumDz, ((CpuBuffer)dbeta).Data, n, c);
    }

    private static Film? FilmOf(DeviceBuffer? scale, DeviceBuffer? shift, int c, int filmStride)
    {
        if ((scale == null) != (shift == null)) throw new ArgumentException("GroupNorm: FiLM scale and shift must be given together");
        if (filmStride != 0 && filmStride < c) throw new ArgumentException($"GroupNorm: FiLM row stride {filmStride} is below the {c} channels");
        return scale == null ? null : new Film(((CpuBuffer)scale).Data, ((CpuBuffer)shift!).Data, filmStride == 0 ? c : filmStride);
    }

    /// <summary>
    /// A per-(sample, channel) FiLM: the pre-activation is multiplied by 1 + scale, then shift is added. Sample rows
    /// lie <paramref name="Stride"/> elements apart (c, or 2c for the halves of one [n, 2c] tensor).
    /// </summary>
    private readonly record struct Film(CpuFloats Scale, CpuFloats Shift, long Stride)
    {
        /// <summary>Tiles sample <paramref name="ni"/>'s 1 + scale (rounded once, as the unfused scale + 1) and shift over the block arrays.</summary>
        public void TileSample(long ni, int c, float[] gain, float[] offset)
        {
            for (int j = 0; j < c; j++) (gain[j], offset[j]) = (Scale[ni * Stride + j] + 1f, Shift[ni * Stride + j]);
            Tile(gain, c);
            Tile(offset, c);
        }
    }

    /// <summary>Copies the first <paramref name="c"/> values over the rest of the array, row after row.</summary>
    private static void Tile(float[] a, int c)
    {
        if (c <= 0) return;
        for (int o = c; o + c <= a.Length; o += c) Array.Copy(a, 0, a, o, c);
    }

    /// <summary>
    /// sums[j] = Σ over the sample's positions of (x − center[j]) or its square, per channel, with
    /// float partial sums over NormFlushRows positions; acc is scratch of at least c floats.
    /// </summary>
    private static unsafe void ChannelSums(CpuFloats x, long first, long spatial, int c, float[] center, float[] acc, double[] sums, bool squared)
    {
        Array.Clear(sums);
        Array.Clear(acc);
        fixed (float* px = x, pc = center, pa = acc)
        {
            for (long p = 0; p < spatial; p++)
            {
                float* row = px + first + p * c;
                int j = 0;
                if (squared)
                {
                    for (; j + 8 <= c; j += 8)
                    {
                        var t = Vector256.Load(row + j) - Vector256.Load(pc + j);
                        Vector256.Store(Vector256.MultiplyAddEstimate(t, t, Vector256.Load(pa + j)), pa + j);
                    }
                    for (; j < c; j++) pa[j] += (row[j] - pc[j]) * (row[j] - pc[j]);
                }
                else
                {
                    for (; j + 8 <= c; j += 8) Vector256.Store(Vector256.Load(pa + j) + (Vector256.Load(row + j) - Vector256.Load(pc + j)), pa + j);
                    for (; j < c; j++) pa[j] += row[j] - pc[j];
                }
                if ((p + 1) % NormFlushRows == 0 || p + 1 == spatial)
                {
                    for (j = 0; j < c; j++) sums[j] += pa[j];
                    new Span<float>(pa, c).Clear();
                }
            }
        }
    }

    /// <summary>Folds block-tiled float partial sums into per-channel double totals (rows added in float first) and clears them.</summary>
    private static void Flush(Span<float> acc, Span<double> total)
    {
        int c = total.Length;
        var first = acc[..c];
        for (int o = c; o + c <= acc.Length; o += c) TensorPrimitives.Add(first, acc.Slice(o, c), first);
        for (int j = 0; j < c; j++) total[j] += first[j];
        acc.Clear();
    }

    /// <summary>
    /// y = (x − center)·scale + shift over a block (per-channel values tiled), then with FiLM y·gain + offset
    /// (gain = 1 + the sample's scale; a rounded multiply, then a rounded add, as the unfused ops), then
    /// y·σ(y) when asked; one vector pass, the tail through a padded vector.
    /// </summary>
    private static unsafe void NormaliseBlock(ReadOnlySpan<float> x, float[] center, float[] scale, float[] shift, float[]? gain, float[]? offset,
        Span<float> y, bool silu)
    {
        int len = x.Length, i = 0;
        bool film = gain != null;
        fixed (float* px = x, py = y, pc = center, ps = scale, ph = shift, pg = gain, po = offset)
        {
            // Centre first: x·scale + (β − μ·scale) would cancel catastrophically when |μ| ≫ σ.
            for (; i + 8 <= len; i += 8)
            {
                var v = Vector256.MultiplyAddEstimate(Vector256.Load(px + i) - Vector256.Load(pc + i), Vector256.Load(ps + i), Vector256.Load(ph + i));
                if (film) v = v * Vector256.Load(pg + i) + Vector256.Load(po + i);
                Vector256.Store(silu ? SimdMath.Silu(v) : v, py + i);
            }
            if (i == len) return;
            float* t = stackalloc float[8];
            for (int j = 0; j < 8; j++)
            {
                if (i + j >= len)
                {
                    t[j] = 0f;
                    continue;
                }
                float v = (px[i + j] - pc[i + j]) * ps[i + j] + ph[i + j];
                if (film)
                {
                    // Two statements, so the product is rounded before the add (no contraction).
                    v *= pg[i + j];
                    v += po[i + j];
                }
                t[j] = v;
            }
            var tail = Vector256.Load(t);
            Vector256.Store(silu ? SimdMath.Silu(tail) : tail, t);
            for (int j = 0; i + j < len; j++) py[i + j] = t[j];
        }
    }

    /// <summary>
    /// One block of the backward's first pass: x̂ = (x − μ)·rstd; du = dy, or dy·SiLU′(u) written into dx,
    /// with u = x̂·γ + β, times gain plus offset with FiLM; and the per-channel partial sums of du and du·x̂.
    /// </summary>
    private static unsafe void BackwardBlock(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float[] mu, float[] rstd,
        float[] gamma, float[] beta, float[]? gain, float[]? offset, float[] accDz, float[] accDzXhat, bool silu)
    {
        int len = x.Length, i = 0;
        bool film = gain != null;
        fixed (float* px = x, pg = dy, pd = dx, pm = mu, pr = rstd, pgam = gamma, pbet = beta, pgn = gain, pof = offset,
            pa = accDz, pb = accDzXhat)
        {
            for (; i + 8 <= len; i += 8)
            {
                var xh = (Vector256.Load(px + i) - Vector256.Load(pm + i)) * Vector256.Load(pr + i);
                var dz = Vector256.Load(pg + i);
                if (silu)
                {
                    var u = Vector256.MultiplyAddEstimate(xh, Vector256.Load(pgam + i), Vector256.Load(pbet + i));
                    if (film) u = Vector256.MultiplyAddEstimate(u, Vector256.Load(pgn + i), Vector256.Load(pof + i));
                    dz *= SimdMath.SiluDerivative(u);
                    Vector256.Store(dz, pd + i);
                }
                Vector256.Store(Vector256.Load(pa + i) + dz, pa + i);
                Vector256.Store(Vector256.MultiplyAddEstimate(dz, xh, Vector256.Load(pb + i)), pb + i);
            }
            if (i == len) return;
            float* t = stackalloc float[16];
            for (int j = 0; j < 8; j++)
            {
                bool inside = i + j < len;
                t[j] = inside ? (px[i + j] - pm[i + j]) * pr[i + j] : 0f;
                float u = inside ? t[j] * pgam[i + j] + pbet[i + j] : 0f;
                t[8 + j] = inside && film ? u * pgn[i + j] + pof[i + j] : u;
            }
            Vector256.Store(SimdMath.SiluDerivative(Vector256.Load(t + 8)), t + 8);
            for (int j = 0; i + j < len; j++)
            {
                float dz = silu ? pg[i + j] * t[8 + j] : pg[i + j];
                if (silu) pd[i + j] = dz;
                pa[i + j] += dz;
                pb[i + j] += dz * t[j];
            }
        }
    }

    private static double GroupSum(double[] sums, int g, int cg)
    {
        double s = 0;
        for (int j = g * cg; j < (g + 1) * cg; j++) s += sums[j];
        return s;
    }

    /// <summary>
    /// dx = rstd·(γ·dz − mean(g) − x̂·mean(g·x̂)) over a block with x̂ = (x − μ)·rstd (per-channel values
    /// tiled). For a one-element group μ = x, so x̂ = 0 and γ·dz − mean(g) cancels exactly, as it should.
    /// dz may alias dx.
    /// </summary>
    private static unsafe void GradientBlock(ReadOnlySpan<float> dz, ReadOnlySpan<float> x, float[] mu, float[] rstd, float[] gamma,
        float[] meanG, float[] meanGXhat, Span<float> dx)
    {
        int len = x.Length, i = 0;
        fixed (float* pz = dz, px = x, pd = dx, pm = mu, pr = rstd, pg = gamma, pmg = meanG, pmx = meanGXhat)
        {
            for (; i + 8 <= len; i += 8)
            {
                var r = Vector256.Load(pr + i);
                var xh = (Vector256.Load(px + i) - Vector256.Load(pm + i)) * r;
                var bracket = Vector256.Load(pg + i) * Vector256.Load(pz + i) - Vector256.Load(pmg + i) - xh * Vector256.Load(pmx + i);
                Vector256.Store(r * bracket, pd + i);
            }
            for (; i < len; i++)
            {
                float xh = (px[i] - pm[i]) * pr[i];
                pd[i] = pr[i] * (pg[i] * pz[i] - pmg[i] - xh * pmx[i]);
            }
        }
    }
}
