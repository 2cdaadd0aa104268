using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
        int n, long spatial, int c, int groups, float eps, bool silu)
    {
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
            var scale = new float[NormBlockRows * c];
            var shift = new float[NormBlockRows * c];
            var acc = new float[NormBlockRows * c];
            var tmp = new float[NormBlockRows * c];
            var sums = new double[c];
            var mu = new double[groups];
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                // Sums are taken around a pivot from the data (each group's first value), so their terms
                // are of the order of the spread even when |μ| ≫ σ; the squares around the rounded mean.
                for (int j = 0; j < c; j++) center[j] = count > 0 ? xv[first + j / cg * cg] : 0f;
                Tile(center, c);
                ChannelSums(xv, first, spatial, c, center, acc, tmp, sums, squared: false);
                for (int g = 0; g < groups; g++)
                {
                    mu[g] = center[g * cg] + GroupSum(sums, g, cg) / count;
                    for (int j = g * cg; j < (g + 1) * cg; j++) center[j] = (float)mu[g];
                }
                Tile(center, c);
                ChannelSums(xv, first, spatial, c, center, acc, tmp, sums, squared: true);
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
                        scale[j] = r * (gv?[j] ?? 1f);
                        shift[j] = (bv?[j] ?? 0f) - (float)residual * scale[j];
                    }
                }
                Tile(scale, c);
                Tile(shift, c);
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int len = (int)Math.Min(NormBlockRows, spatial - p0) * c, o = (int)(first + p0 * c);
                    var yb = yv.AsSpan(o, len);
                    // Centre first: x·scale + (β − μ·scale) would cancel catastrophically when |μ| ≫ σ.
                    TensorPrimitives.Subtract(xv.AsSpan(o, len), center.AsSpan(0, len), yb);
                    TensorPrimitives.MultiplyAdd(yb, scale.AsSpan(0, len), shift.AsSpan(0, len), yb);
                    if (!silu) continue;
                    var tb = tmp.AsSpan(0, len);
                    TensorPrimitives.Sigmoid(yb, tb);
                    TensorPrimitives.Multiply(yb, tb, yb);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu)
    {
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
        // Per-(sample, channel) sums of dz and dz·x̂ (dz: gradient at the affine output) give both the
        // group terms of dx and, summed over samples, dβ and dγ — so no cross-thread accumulation.
        var sumDz = new double[(long)n * c];
        var sumDzXhat = new double[(long)n * c];
        // With SiLU, dz is first written into dx and then overwritten in place by the second pass.
        var dzv = silu ? dxv : gyv;
        CpuParallel.For(n, spatial * c * 12, (s, e) =>
        {
            var muC = new float[block];
            var rC = new float[block];
            var accDz = new float[block];
            var accDzXhat = new float[block];
            var xhat = new float[block];
            var z = new float[block];
            var t = new float[block];
            var coef = new double[4 * c];
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                for (int j = 0; j < c; j++) (muC[j], rC[j]) = (mv[ni * groups + j / cg], rv[ni * groups + j / cg]);
                Tile(muC, c);
                Tile(rC, c);
                var sDz = sumDz.AsSpan((int)(ni * c), c);
                var sDzXhat = sumDzXhat.AsSpan((int)(ni * c), c);
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int rows = (int)Math.Min(NormBlockRows, spatial - p0), len = rows * c, o = (int)(first + p0 * c);
                    var xh = xhat.AsSpan(0, len);
                    TensorPrimitives.Subtract(xv.AsSpan(o, len), muC.AsSpan(0, len), xh);
                    TensorPrimitives.Multiply(xh, rC.AsSpan(0, len), xh);
                    ReadOnlySpan<float> dz = gyv.AsSpan(o, len);
                    if (silu)
                    {
                        // dz = dy·σ(z)·(1 + z·(1 − σ(z))) at the affine output z = x̂·γ + β.
                        var zb = z.AsSpan(0, len);
                        var sig = t.AsSpan(0, len);
                        var d = dxv.AsSpan(o, len);
                        TensorPrimitives.MultiplyAdd(xh, gam.AsSpan(0, len), bet.AsSpan(0, len), zb);
                        TensorPrimitives.Sigmoid(zb, sig);
                        TensorPrimitives.Subtract(1f, sig, d);
                        TensorPrimitives.MultiplyAdd(zb, d, 1f, d);
                        TensorPrimitives.Multiply(d, sig, d);
                        TensorPrimitives.Multiply(d, gyv.AsSpan(o, len), d);
                        dz = d;
                    }
                    TensorPrimitives.Add(accDz.AsSpan(0, len), dz, accDz.AsSpan(0, len));
                    TensorPrimitives.MultiplyAdd(dz, xh, accDzXhat.AsSpan(0, len), accDzXhat.AsSpan(0, len));
                    if ((p0 + rows) % NormFlushRows == 0 || p0 + rows == spatial)
                    {
                        Flush(accDz, sDz);
                        Flush(accDzXhat, sDzXhat);
                    }
                }
                // With g = dz·γ: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) over the group, in double.
                var muD = coef.AsSpan(0, c);
                var rD = coef.AsSpan(c, c);
                var meanG = coef.AsSpan(2 * c, c);
                var meanGXhat = coef.AsSpan(3 * c, c);
                for (int g = 0; g < groups; g++)
                {
                    double mg = 0, mgx = 0;
                    for (int j = g * cg; j < (g + 1) * cg; j++)
                    {
                        mg += gam[j] * sDz[j];
                        mgx += gam[j] * sDzXhat[j];
                    }
                    for (int j = g * cg; j < (g + 1) * cg; j++) (meanG[j], meanGXhat[j]) = (mg / count, mgx / count);
                }
                for (int j = 0; j < c; j++) (muD[j], rD[j]) = (muC[j], rC[j]);
                for (long p = 0; p < spatial; p++)
                {
                    int o = (int)(first + p * c);
                    NormGradientRow(dzv.AsSpan(o, c), gam.AsSpan(0, c), xv.AsSpan(o, c), muD, rD, meanG, meanGXhat, dxv.AsSpan(o, c));
                }
            }
        });
        if (dgamma != null) SumOverSamples(sumDzXhat, ((CpuBuffer)dgamma).Data, n, c);
        if (dbeta != null) SumOverSamples(sumDz, ((CpuBuffer)dbeta).Data, n, c);
    }

    /// <summary>Copies the first <paramref name="c"/> values over the rest of the array, row after row.</summary>
    private static void Tile(float[] a, int c)
    {
        if (c <= 0) return;
        for (int o = c; o + c <= a.Length; o += c) Array.Copy(a, 0, a, o, c);
    }

    /// <summary>
    /// sums[j] = Σ over the sample's positions of (x − center[j]) or its square, per channel; center
    /// is tiled over a block of rows, acc and tmp are block-sized scratch.
    /// </summary>
    private static void ChannelSums(float[] x, long first, long spatial, int c, float[] center, float[] acc, float[] tmp, double[] sums, bool squared)
    {
        Array.Clear(sums);
        Array.Clear(acc);
        for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
        {
            int rows = (int)Math.Min(NormBlockRows, spatial - p0), len = rows * c;
            var tb = tmp.AsSpan(0, len);
            var ab = acc.AsSpan(0, len);
            TensorPrimitives.Subtract(x.AsSpan((int)(first + p0 * c), len), center.AsSpan(0, len), tb);
            if (squared) TensorPrimitives.MultiplyAdd(tb, tb, ab, ab);
            else TensorPrimitives.Add(ab, tb, ab);
            if ((p0 + rows) % NormFlushRows == 0 || p0 + rows == spatial) Flush(acc, sums);
        }
    }

    /// <summary>Adds block-tiled float partial sums into per-channel double totals and clears them.</summary>
    private static void Flush(Span<float> acc, Span<double> total)
    {
        int c = total.Length;
        for (int o = 0; o < acc.Length; o += c)
            for (int j = 0; j < c; j++) total[j] += acc[o + j];
        acc.Clear();
    }

    private static double GroupSum(double[] sums, int g, int cg)
    {
        double s = 0;
        for (int j = g * cg; j < (g + 1) * cg; j++) s += sums[j];
        return s;
    }

    /// <summary>
    /// <see cref="NormGradient"/> along a row of channels, vectorised in double: the same operations
    /// in the same order, so the same result as the scalar form.
    /// </summary>
    private static void NormGradientRow(ReadOnlySpan<float> dz, ReadOnlySpan<float> gamma, ReadOnlySpan<float> x,
        ReadOnlySpan<double> mu, ReadOnlySpan<double> rstd, ReadOnlySpan<double> meanG, ReadOnlySpan<double> meanGXhat, Span<float> dx)
    {
        int wf = Vector<float>.Count, wd = Vector<double>.Count, j = 0;
        for (; j + wf <= dx.Length; j += wf)
        {
            Vector.Widen(new Vector<float>(dz[j..]), out var dzLo, out var dzHi);
            Vector.Widen(new Vector<float>(gamma[j..]), out var gLo, out var gHi);
            Vector.Widen(new Vector<float>(x[j..]), out var xLo, out var xHi);
            var lo = Gradient(dzLo, gLo, xLo, new Vector<double>(mu[j..]), new Vector<double>(rstd[j..]),
                new Vector<double>(meanG[j..]), new Vector<double>(meanGXhat[j..]));
            var hi = Gradient(dzHi, gHi, xHi, new Vector<double>(mu[(j + wd)..]), new Vector<double>(rstd[(j + wd)..]),
                new Vector<double>(meanG[(j + wd)..]), new Vector<double>(meanGXhat[(j + wd)..]));
            Vector.Narrow(lo, hi).CopyTo(dx[j..]);
        }
        for (; j < dx.Length; j++) dx[j] = NormGradient(dz[j], gamma[j], x[j], (float)mu[j], (float)rstd[j], meanG[j], meanGXhat[j]);
    }

    private static Vector<double> Gradient(Vector<double> dz, Vector<double> gamma, Vector<double> x, Vector<double> mu, Vector<double> rstd,
        Vector<double> meanG, Vector<double> meanGXhat)
    {
        var xhat = (x - mu) * rstd;
        return rstd * (gamma * dz - meanG - xhat * meanGXhat);
    }
}
