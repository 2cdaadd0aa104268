using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

// The reference for the fused schedule ops: per-sample coefficients once, then one loop per sample.
// Each rounds exactly as the chain of generic ops it replaced (same float operations in the same order,
// the same Pow and Log), so models trained or sampled before the fusion reproduce bit for bit.
public sealed partial class CpuBackend
{
    /// <summary>EDM preconditioning coefficients (c_in, c_skip, c_out) of σ, in float in a fixed order.</summary>
    internal static (float CIn, float CSkip, float COut) EdmCoefficients(float sigma, float sigmaData)
    {
        float sd2 = sigmaData * sigmaData, v = sigma * sigma + sd2;
        float cIn = 1f / MathF.Sqrt(v);
        return (cIn, MathF.Pow(v, -1f) * sd2, sigma * cIn * sigmaData);
    }

    /// <summary>c_noise = ln σ / 4 for every sample, with the vectorised log (and its chunking) of the unary Log op.</summary>
    private static void EdmNoiseLevels(CpuFloats sigma, CpuFloats cNoise, int batch) =>
        CpuParallel.For(batch, 8, (s, e) =>
        {
            var c = cNoise.AsSpan((int)s, (int)(e - s));
            TensorPrimitives.Log(sigma.AsSpan((int)s, (int)(e - s)), c);
            TensorPrimitives.Multiply(c, 0.25f, c);
        });

    /// <summary>Runs <paramref name="body"/>(sample, first element) over the samples in parallel.</summary>
    private static void PerSample(int batch, long perSample, int costPerElement, Action<int, long> body) =>
        CpuParallel.For(batch, perSample * costPerElement, (s, e) =>
        {
            for (long i = s; i < e; i++) body((int)i, i * perSample);
        });

    /// <inheritdoc/>
    public void EdmTrainingInputs(DeviceBuffer x0, DeviceBuffer noise, DeviceBuffer sigma, DeviceBuffer x, DeviceBuffer netIn,
        DeviceBuffer target, DeviceBuffer cNoise, int batch, long perSample, float sigmaData)
    {
        var x0v = ((CpuBuffer)x0).Data;
        var nv = ((CpuBuffer)noise).Data;
        var sv = ((CpuBuffer)sigma).Data;
        var xv = ((CpuBuffer)x).Data;
        var iv = ((CpuBuffer)netIn).Data;
        var tv = ((CpuBuffer)target).Data;
        var cv = ((CpuBuffer)cNoise).Data;
        EdmNoiseLevels(sv, cv, batch);
        PerSample(batch, perSample, 6, (b, o) =>
        {
            float s = sv[b];
            var (cIn, cSkip, cOut) = EdmCoefficients(s, sigmaData);
            // Spans of the sample's elements: the loop then indexes registers, not the captured buffers' fields.
            int at = (int)o, n = (int)perSample;
            ReadOnlySpan<float> x0s = x0v.AsSpan(at, n), ns = nv.AsSpan(at, n);
            Span<float> xs = xv.AsSpan(at, n), ins = iv.AsSpan(at, n), ts = tv.AsSpan(at, n);
            for (int j = 0; j < n; j++)
            {
                float a = x0s[j], xn = a + s * ns[j];
                xs[j] = xn;
                ins[j] = cIn * xn;
                ts[j] = (a - cSkip * xn) / cOut;
            }
        });
    }

    /// <inheritdoc/>
    public void EdmDenoise(DeviceBuffer x, DeviceBuffer f, DeviceBuffer sigma, DeviceBuffer denoised, int batch, long perSample, float sigmaData)
    {
        var xv = ((CpuBuffer)x).Data;
        var fv = ((CpuBuffer)f).Data;
        var sv = ((CpuBuffer)sigma).Data;
        var dv = ((CpuBuffer)denoised).Data;
        PerSample(batch, perSample, 3, (b, o) =>
        {
            var (_, cSkip, cOut) = EdmCoefficients(sv[b], sigmaData);
            for (long j = o; j < o + perSample; j++) dv[j] = cSkip * xv[j] + cOut * fv[j];
        });
    }

    /// <inheritdoc/>
    public void EdmDenoiseUniform(DeviceBuffer x, DeviceBuffer f, DeviceBuffer denoised, long n, float cSkip, float cOut)
    {
        var xv = ((CpuBuffer)x).Data;
        var fv = ((CpuBuffer)f).Data;
        var dv = ((CpuBuffer)denoised).Data;
        CpuParallel.For(n, 3, (s, e) =>
        {
            for (long j = s; j < e; j++) dv[j] = xv[j] * cSkip + fv[j] * cOut;
        });
    }

    /// <inheritdoc/>
    public void EulerStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y,
        int batch, long perSample)
    {
        var xv = ((CpuBuffer)x).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var fv = ((CpuBuffer)sigmaFrom).Data;
        var tv = ((CpuBuffer)sigmaTo).Data;
        var yv = ((CpuBuffer)y).Data;
        PerSample(batch, perSample, 3, (b, o) =>
        {
            float r = tv[b] / fv[b];
            for (long j = o; j < o + perSample; j++) yv[j] = dv[j] + r * (xv[j] - dv[j]);
        });
    }

    /// <inheritdoc/>
    public void EulerStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer y, long n, float ratio)
    {
        var xv = ((CpuBuffer)x).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var yv = ((CpuBuffer)y).Data;
        CpuParallel.For(n, 3, (s, e) =>
        {
            for (long j = s; j < e; j++) yv[j] = dv[j] + (xv[j] - dv[j]) * ratio;
        });
    }

    /// <inheritdoc/>
    public void HeunStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext,
        DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        var xv = ((CpuBuffer)x).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var xnv = ((CpuBuffer)xNext).Data;
        var dnv = ((CpuBuffer)denoisedNext).Data;
        var fv = ((CpuBuffer)sigmaFrom).Data;
        var tv = ((CpuBuffer)sigmaTo).Data;
        var yv = ((CpuBuffer)y).Data;
        PerSample(batch, perSample, 8, (b, o) =>
        {
            float sa = fv[b], sb = tv[b];
            if (sb == 0f)
            {
                xnv.AsSpan((int)o, (int)perSample).CopyTo(yv.AsSpan((int)o, (int)perSample));
                return;
            }
            float h = 0.5f * (sb - sa), ia = 1f / sa, ib = 1f / sb;
            for (long j = o; j < o + perSample; j++)
                yv[j] = xv[j] + h * ((xv[j] - dv[j]) * ia + (xnv[j] - dnv[j]) * ib);
        });
    }

    /// <inheritdoc/>
    public void HeunStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext, DeviceBuffer y,
        long n, float invFrom, float invTo, float halfStep)
    {
        var xv = ((CpuBuffer)x).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var xnv = ((CpuBuffer)xNext).Data;
        var dnv = ((CpuBuffer)denoisedNext).Data;
        var yv = ((CpuBuffer)y).Data;
        CpuParallel.For(n, 8, (s, e) =>
        {
            for (long j = s; j < e; j++)
                yv[j] = xv[j] + ((xv[j] - dv[j]) * invFrom + (xnv[j] - dnv[j]) * invTo) * halfStep;
        });
    }

    /// <inheritdoc/>
    public void DdimStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer alphaFrom, DeviceBuffer sigmaFrom,
        DeviceBuffer alphaTo, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        var xv = ((CpuBuffer)x).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var afv = ((CpuBuffer)alphaFrom).Data;
        var sfv = ((CpuBuffer)sigmaFrom).Data;
        var atv = ((CpuBuffer)alphaTo).Data;
        var stv = ((CpuBuffer)sigmaTo).Data;
        var yv = ((CpuBuffer)y).Data;
        PerSample(batch, perSample, 4, (b, o) =>
        {
            float aa = afv[b], ab = atv[b], r = sfv[b] == 0f ? 0f : stv[b] / sfv[b];
            for (long j = o; j < o + perSample; j++) yv[j] = ab * dv[j] + r * (xv[j] - aa * dv[j]);
        });
    }

    /// <inheritdoc/>
    public void ScoreDifference(DeviceBuffer xg, DeviceBuffer realDenoised, DeviceBuffer fakeDenoised, DeviceBuffer grad,
        int batch, long perSample, bool normalise, float eps, float scale)
    {
        var xv = ((CpuBuffer)xg).Data;
        var rv = ((CpuBuffer)realDenoised).Data;
        var fv = ((CpuBuffer)fakeDenoised).Data;
        var gv = ((CpuBuffer)grad).Data;
        PerSample(batch, perSample, 5, (b, o) =>
        {
            float k = scale;
            if (normalise)
            {
                double s = 0;
                for (long j = o; j < o + perSample; j++) s += MathF.Abs(xv[j] - rv[j]);
                k = scale / ((float)(s / perSample) + eps);
            }
            for (long j = o; j < o + perSample; j++) gv[j] = k * (fv[j] - rv[j]);
        });
    }

    /// <inheritdoc/>
    public void BootTarget(DeviceBuffer y, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample, float minDelta)
    {
        var yv = ((CpuBuffer)y).Data;
        var dv = ((CpuBuffer)denoised).Data;
        var fv = ((CpuBuffer)sigmaFrom).Data;
        var sv = ((CpuBuffer)sigmaTo).Data;
        var tv = ((CpuBuffer)target).Data;
        var wv = ((CpuBuffer)weight).Data;
        PerSample(batch, perSample, 3, (b, o) =>
        {
            float delta = MathF.Max(1f - sv[b] / fv[b], minDelta);
            wv[b] = 1f / (delta * delta);
            for (long j = o; j < o + perSample; j++) tv[j] = yv[j] + delta * (dv[j] - yv[j]);
        });
    }

    /// <inheritdoc/>
    public void PdTarget(DeviceBuffer xFrom, DeviceBuffer xTo, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample)
    {
        var av = ((CpuBuffer)xFrom).Data;
        var cv = ((CpuBuffer)xTo).Data;
        var fv = ((CpuBuffer)sigmaFrom).Data;
        var sv = ((CpuBuffer)sigmaTo).Data;
        var tv = ((CpuBuffer)target).Data;
        var wv = ((CpuBuffer)weight).Data;
        PerSample(batch, perSample, 3, (b, o) =>
        {
            float sa = fv[b], r = sv[b] / sa, inv = 1f / (1f - r);
            wv[b] = MathF.Max(1f, 1f / (sa * sa));
            if (sv[b] == 0f) cv.AsSpan((int)o, (int)perSample).CopyTo(tv.AsSpan((int)o, (int)perSample));
            else for (long j = o; j < o + perSample; j++) tv[j] = (cv[j] - r * av[j]) * inv;
        });
    }

    /// <inheritdoc/>
    public void ThresholdX0(DeviceBuffer x0, DeviceBuffer y, int batch, long perSample, float quantile)
    {
        var xv = ((CpuBuffer)x0).Data;
        var yv = ((CpuBuffer)y).Data;
        PerSample(batch, perSample, 20, (b, o) =>
        {
            float s = 1f;
            if (quantile > 0 && perSample > 0)
            {
                var a = new float[perSample];
                for (long j = 0; j < perSample; j++) a[j] = MathF.Abs(xv[o + j]);
                Array.Sort(a);
                double pos = quantile * (double)(perSample - 1);
                long lo = (long)Math.Floor(pos);
                float f = (float)(pos - lo), q = a[lo];
                if (f > 0) q += f * (a[lo + 1] - q);
                s = MathF.Max(1f, q);
            }
            float inv = 1f / s;
            for (long j = o; j < o + perSample; j++) yv[j] = MathF.Max(-s, MathF.Min(xv[j], s)) * inv;
        });
    }
}
