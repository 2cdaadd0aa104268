using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LayerNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
        long rows, int d, float eps)
    {
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        var mv = ((CpuBuffer)mean).Data;
        var rv = ((CpuBuffer)rstd).Data;
        var gv = (gamma as CpuBuffer)?.Data;
        var bv = (beta as CpuBuffer)?.Data;
        CpuParallel.For(rows, (long)d * 6, (s, e) =>
        {
            var scale = new float[d];
            var shift = new float[d];
            var tmp = new float[d];
            for (long row = s; row < e; row++)
            {
                var xr = xv.AsSpan((int)(row * d), d);
                double mu = xr[0] + CenteredSum(xr, xr[0], tmp) / d;
                float muf = (float)mu;
                double variance = Math.Max(0, CenteredSum(xr, muf, tmp, squared: true) / d - (mu - muf) * (mu - muf));
                float r = (float)(1 / Math.Sqrt(variance + eps));
                mv[row] = muf;
                rv[row] = r;
                if (gv == null) scale.AsSpan().Fill(r);
                else TensorPrimitives.Multiply(gv.Value.AsSpan(0, d), r, scale);
                float residual = (float)(mu - muf);
                if (bv == null) TensorPrimitives.Multiply(scale, -residual, shift);
                else TensorPrimitives.MultiplyAdd(scale, -residual, bv.Value.AsSpan(0, d), shift);
                NormaliseRow(xr, muf, scale, shift, yv.AsSpan((int)(row * d), d), tmp, silu: false);
            }
        });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
        DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, long rows, int d)
    {
        var xv = ((CpuBuffer)x).Data;
        var mv = ((CpuBuffer)mean).Data;
        var rv = ((CpuBuffer)rstd).Data;
        var gyv = ((CpuBuffer)dy).Data;
        var dxv = ((CpuBuffer)dx).Data;
        var gv = (gamma as CpuBuffer)?.Data;
        bool affineGrads = dgamma != null || dbeta != null;
        // dγ/dβ sum over rows: each fixed block of rows owns a partial, combined in block order so
        // the result does not depend on the thread count.
        int blocks = (int)Math.Clamp(rows, 1, 64);
        var partDg = affineGrads ? new double[(long)blocks * d] : null;
        var partDb = affineGrads ? new double[(long)blocks * d] : null;
        CpuParallel.For(blocks, (rows / blocks + 1) * d * 10, (bs, be) =>
        {
            for (long blk = bs; blk < be; blk++)
            {
                long r0 = rows * blk / blocks, r1 = rows * (blk + 1) / blocks;
                for (long row = r0; row < r1; row++)
                {
                    long o = row * d;
                    float mu = mv[row], r = rv[row];
                    double sumG = 0, sumGXhat = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double xhat = ((double)xv[o + j] - mu) * r;
                        double gj = (double)gyv[o + j] * (gv?[j] ?? 1f);
                        sumG += gj;
                        sumGXhat += gj * xhat;
                        if (partDg != null)
                        {
                            partDg[blk * d + j] += gyv[o + j] * xhat;
                            partDb![blk * d + j] += gyv[o + j];
                        }
                    }
                    for (int j = 0; j < d; j++)
                        dxv[o + j] = NormGradient(gyv[o + j], gv?[j] ?? 1f, xv[o + j], mu, r, sumG / d, sumGXhat / d);
                }
            }
        });
        if (dgamma != null) SumOverSamples(partDg!, ((CpuBuffer)dgamma).Data, blocks, d);
        if (dbeta != null) SumOverSamples(partDb!, ((CpuBuffer)dbeta).Data, blocks, d);
    }

    /// <summary>
    /// y = (x − μf)·scale + shift, then SiLU when asked. μf is the mean rounded to float; callers fold
    /// the rounding residual (μ − μf)·scale into <paramref name="shift"/>, which matters when |μ| ≫ σ.
    /// </summary>
    private static void NormaliseRow(ReadOnlySpan<float> x, float mu, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        Span<float> y, Span<float> tmp, bool silu)
    {
        // Centre first: x·scale + (β − μ·scale) would cancel catastrophically when |μ| ≫ σ.
        TensorPrimitives.Subtract(x, mu, y);
        TensorPrimitives.MultiplyAdd(y, scale, shift, y);
        if (!silu) return;
        var t = tmp[..y.Length];
        TensorPrimitives.Sigmoid(y, t);
        TensorPrimitives.Multiply(y, t, y);
    }

    /// <summary>
    /// dx = rstd·(γ·dz − mean(g) − x̂·mean(g·x̂)), g = γ·dz. Evaluated in double: the bracket cancels
    /// (exactly, for a one-element group), and float rounding there is amplified by rstd.
    /// </summary>
    private static float NormGradient(float dz, float gamma, float x, float mu, float rstd, double meanG, double meanGXhat)
    {
        double xhat = ((double)x - mu) * rstd;
        return (float)(rstd * ((double)gamma * dz - meanG - xhat * meanGXhat));
    }

    /// <summary>
    /// Σ (x − pivot), or Σ (x − pivot)² when <paramref name="squared"/>, with SIMD float sums over short
    /// blocks added in double. With a pivot taken from the data the terms are of the order of the
    /// spread, not of the mean, so the float partial sums stay accurate even when |μ| ≫ σ.
    /// </summary>
    private static double CenteredSum(ReadOnlySpan<float> x, float pivot, Span<float> tmp, bool squared = false)
    {
        const int block = 256;
        double s = 0;
        for (int i = 0; i < x.Length; i += block)
        {
            int len = Math.Min(block, x.Length - i);
            var t = tmp[..len];
            TensorPrimitives.Subtract(x.Slice(i, len), pivot, t);
            s += squared ? TensorPrimitives.SumOfSquares<float>(t) : TensorPrimitives.Sum<float>(t);
        }
        return s;
    }

    /// <summary>out[j] = Σ_s part[s·width + j], summed in order.</summary>
    private static void SumOverSamples(double[] part, CpuFloats result, int samples, int width)
    {
        for (int j = 0; j < width; j++)
        {
            double s = 0;
            for (int i = 0; i < samples; i++) s += part[(long)i * width + j];
            result[j] = (float)s;
        }
    }
}
