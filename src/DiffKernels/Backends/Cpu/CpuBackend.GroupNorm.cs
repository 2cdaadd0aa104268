using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace DiffKernels.Backends.Cpu;

// GroupNorm over NHWC works a sample at a time along whole pixel rows: every pass reads a row of all
// C channels as vectors and keeps per-channel partial sums (in float over at most NormFlushRows
// positions, then added into double), so short groups (4 or 8 channels) still vectorise. Per-group
// statistics come from the per-channel sums. Work is split by sample only, so results do not depend
// on the worker count.
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
            var center = new float[c];
            var acc = new float[c];
            var sums = new double[c];
            var scale = new float[c];
            var shift = new float[c];
            var mu = new double[groups];
            var tmp = new float[NormBlockRows * c];
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                // Sums are taken around a pivot from the data (each group's first value), so their terms
                // are of the order of the spread even when |μ| ≫ σ; the squares around the rounded mean.
                for (int j = 0; j < c; j++) center[j] = count > 0 ? xv[first + j / cg * cg] : 0f;
                ChannelSums(xv, first, spatial, center, acc, sums, squared: false);
                for (int g = 0; g < groups; g++)
                {
                    mu[g] = center[g * cg] + GroupSum(sums, g, cg) / count;
                    for (int j = g * cg; j < (g + 1) * cg; j++) center[j] = (float)mu[g];
                }
                ChannelSums(xv, first, spatial, center, acc, sums, squared: true);
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
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int rows = (int)Math.Min(NormBlockRows, spatial - p0);
                    for (int r = 0; r < rows; r++)
                    {
                        int o = (int)(first + (p0 + r) * c);
                        // Centre first: x·scale + (β − μ·scale) would cancel catastrophically when |μ| ≫ σ.
                        NormaliseChannels(xv.AsSpan(o, c), center, scale, shift, yv.AsSpan(o, c));
                    }
                    if (silu) SiluInPlace(yv.AsSpan((int)(first + p0 * c), rows * c), tmp);
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
        int cg = c / groups;
        long count = spatial * cg;
        var gam = new float[c];
        var bet = new float[c];
        for (int j = 0; j < c; j++) (gam[j], bet[j]) = (gv?[j] ?? 1f, bv?[j] ?? 0f);
        // Per-(sample, channel) sums of dz and dz·x̂ (dz: gradient at the affine output) give both the
        // group terms of dx and, summed over samples, dβ and dγ — so no cross-thread accumulation.
        var sumDz = new double[(long)n * c];
        var sumDzXhat = new double[(long)n * c];
        // With SiLU, dz is first written into dx and then overwritten in place by the second pass.
        var dzv = silu ? dxv : gyv;
        CpuParallel.For(n, spatial * c * 12, (s, e) =>
        {
            var muC = new float[c];
            var rC = new float[c];
            var accDz = new float[c];
            var accDzXhat = new float[c];
            var xhat = new float[NormBlockRows * c];
            var z = new float[NormBlockRows * c];
            var t = new float[NormBlockRows * c];
            var coef = new double[4 * c];
            for (long ni = s; ni < e; ni++)
            {
                long first = ni * spatial * c;
                for (int j = 0; j < c; j++) (muC[j], rC[j]) = (mv[ni * groups + j / cg], rv[ni * groups + j / cg]);
                var sDz = sumDz.AsSpan((int)(ni * c), c);
                var sDzXhat = sumDzXhat.AsSpan((int)(ni * c), c);
                for (long p0 = 0; p0 < spatial; p0 += NormBlockRows)
                {
                    int rows = (int)Math.Min(NormBlockRows, spatial - p0), len = rows * c, o = (int)(first + p0 * c);
                    var xh = xhat.AsSpan(0, len);
                    for (int r = 0; r < rows; r++)
                    {
                        var row = xh.Slice(r * c, c);
                        TensorPrimitives.Subtract(xv.AsSpan(o + r * c, c), muC, row);
                        TensorPrimitives.Multiply(row, rC, row);
                    }
                    ReadOnlySpan<float> dz = gyv.AsSpan(o, len);
                    if (silu)
                    {
                        // dz = dy·σ(z)·(1 + z·(1 − σ(z))) at the affine output z = x̂·γ + β.
                        var zb = z.AsSpan(0, len);
                        var sig = t.AsSpan(0, len);
                        for (int r = 0; r < rows; r++) TensorPrimitives.MultiplyAdd(xh.Slice(r * c, c), gam, bet, zb.Slice(r * c, c));
                        TensorPrimitives.Sigmoid(zb, sig);
                        var d = dxv.AsSpan(o, len);
                        TensorPrimitives.Subtract(1f, sig, d);
                        TensorPrimitives.MultiplyAdd(zb, d, 1f, d);
                        TensorPrimitives.Multiply(d, sig, d);
                        TensorPrimitives.Multiply(d, gyv.AsSpan(o, len), d);
                        dz = d;
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        var dzRow = dz.Slice(r * c, c);
                        TensorPrimitives.Add(accDz, dzRow, accDz);
                        TensorPrimitives.MultiplyAdd(dzRow, xh.Slice(r * c, c), accDzXhat, accDzXhat);
                    }
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
                    NormGradientRow(dzv.AsSpan(o, c), gam, xv.AsSpan(o, c), muD, rD, meanG, meanGXhat, dxv.AsSpan(o, c));
                }
            }
        });
        if (dgamma != null) SumOverSamples(sumDzXhat, ((CpuBuffer)dgamma).Data, n, c);
        if (dbeta != null) SumOverSamples(sumDz, ((CpuBuffer)dbeta).Data, n, c);
    }

    /// <summary>sums[j] = Σ over the sample's positions of (x − center[j]) or its square, per channel.</summary>
    private static void ChannelSums(float[] x, long first, long spatial, float[] center, float[] acc, double[] sums, bool squared)
    {
        int c = center.Length;
        Array.Clear(sums);
        Array.Clear(acc);
        for (long p = 0; p < spatial; p++)
        {
            var row = x.AsSpan((int)(first + p * c), c);
            var vr = MemoryMarshal.Cast<float, Vector<float>>(row);
            var vc = MemoryMarshal.Cast<float, Vector<float>>(center.AsSpan());
            var va = MemoryMarshal.Cast<float, Vector<float>>(acc.AsSpan());
            for (int k = 0; k < vr.Length; k++)
            {
                var t = vr[k] - vc[k];
                va[k] += squared ? t * t : t;
            }
            for (int j = vr.Length * Vector<float>.Count; j < c; j++)
            {
                float t = row[j] - center[j];
                acc[j] += squared ? t * t : t;
            }
            if ((p + 1) % NormFlushRows == 0 || p + 1 == spatial) Flush(acc, sums);
        }
    }

    /// <summary>Adds the float partial sums into the double totals and clears them.</summary>
    private static void Flush(Span<float> acc, Span<double> total)
    {
        for (int j = 0; j < acc.Length; j++) total[j] += acc[j];
        acc.Clear();
    }

    private static double GroupSum(double[] sums, int g, int cg)
    {
        double s = 0;
        for (int j = g * cg; j < (g + 1) * cg; j++) s += sums[j];
        return s;
    }

    /// <summary>y = (x − center)·scale + shift per channel.</summary>
    private static void NormaliseChannels(ReadOnlySpan<float> x, ReadOnlySpan<float> center, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        TensorPrimitives.Subtract(x, center, y);
        TensorPrimitives.MultiplyAdd(y, scale, shift, y);
    }

    /// <summary>y ← y·σ(y), in blocks through <paramref name="tmp"/>.</summary>
    private static void SiluInPlace(Span<float> y, Span<float> tmp)
    {
        for (int i = 0; i < y.Length; i += tmp.Length)
        {
            var yb = y.Slice(i, Math.Min(tmp.Length, y.Length - i));
            var tb = tmp[..yb.Length];
            TensorPrimitives.Sigmoid(yb, tb);
            TensorPrimitives.Multiply(yb, tb, yb);
        }
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
