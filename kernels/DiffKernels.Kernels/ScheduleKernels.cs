using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Fused noise-schedule ops on `batch` samples of `perSample` elements (σ, α per sample): one thread
/// per element, each recomputing its sample's few float coefficients in the same order as the CPU
/// reference (cheaper than a second pass over memory), so both backends round alike but for c_skip's
/// power, which the CPU takes with MathF.Pow and the device as a division (within an ulp).
/// </summary>
internal static class ScheduleKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Edm(float sigma, float sigmaData, out float cIn, out float cSkip, out float cOut)
    {
        float sd2 = sigmaData * sigmaData, v = sigma * sigma + sd2;
        cIn = 1f / MathF.Sqrt(v);
        cSkip = sd2 / v;
        cOut = sigma * cIn * sigmaData;
    }

    /// <summary>x = x0 + σn, netIn = c_in·x, target = (x0 − c_skip·x)/c_out, cNoise = ln σ / 4.</summary>
    [Kernel]
    public static void EdmTrainingInputs(Index1D i, ArrayView<float> x0, ArrayView<float> noise, ArrayView<float> sigma,
        ArrayView<float> x, ArrayView<float> netIn, ArrayView<float> target, ArrayView<float> cNoise, int perSample, float sigmaData)
    {
        int b = i / perSample;
        float s = sigma[b];
        Edm(s, sigmaData, out float cIn, out float cSkip, out float cOut);
        float a = x0[i], xn = a + s * noise[i];
        x[i] = xn;
        netIn[i] = cIn * xn;
        target[i] = (a - cSkip * xn) / cOut;
        if (i % perSample == 0) cNoise[b] = DeviceMath.Log(s) / 4f;
    }

    /// <summary>D = c_skip·x + c_out·F.</summary>
    [Kernel]
    public static void EdmDenoise(Index1D i, ArrayView<float> x, ArrayView<float> f, ArrayView<float> sigma, ArrayView<float> denoised,
        int perSample, float sigmaData)
    {
        Edm(sigma[i / perSample], sigmaData, out _, out float cSkip, out float cOut);
        denoised[i] = cSkip * x[i] + cOut * f[i];
    }

    /// <summary>D = x·c_skip + F·c_out with one pair of coefficients for the whole tensor.</summary>
    [Kernel]
    public static void EdmDenoiseUniform(Index1D i, ArrayView<float> x, ArrayView<float> f, ArrayView<float> denoised, float cSkip, float cOut) =>
        denoised[i] = x[i] * cSkip + f[i] * cOut;

    /// <summary>y = D + (σb/σa)(x − D).</summary>
    [Kernel]
    public static void Euler(Index1D i, ArrayView<float> x, ArrayView<float> d, ArrayView<float> sigmaFrom, ArrayView<float> sigmaTo,
        ArrayView<float> y, int perSample)
    {
        int b = i / perSample;
        float r = sigmaTo[b] / sigmaFrom[b];
        y[i] = d[i] + r * (x[i] - d[i]);
    }

    /// <summary>y = D + (x − D)·r with one ratio r = σb/σa for the whole tensor.</summary>
    [Kernel]
    public static void EulerUniform(Index1D i, ArrayView<float> x, ArrayView<float> d, ArrayView<float> y, float ratio) =>
        y[i] = d[i] + (x[i] - d[i]) * ratio;

    /// <summary>y = x + (σb − σa)·((x − Da)/σa + (x′ − Db)/σb)/2, or x′ where σb = 0.</summary>
    [Kernel]
    public static void Heun(Index1D i, ArrayView<float> x, ArrayView<float> d, ArrayView<float> xNext, ArrayView<float> dNext,
        ArrayView<float> sigmaFrom, ArrayView<float> sigmaTo, ArrayView<float> y, int perSample)
    {
        int b = i / perSample;
        float sa = sigmaFrom[b], sb = sigmaTo[b];
        if (sb == 0f)
        {
            y[i] = xNext[i];
            return;
        }
        float h = 0.5f * (sb - sa), ia = 1f / sa, ib = 1f / sb;
        y[i] = x[i] + h * ((x[i] - d[i]) * ia + (xNext[i] - dNext[i]) * ib);
    }

    /// <summary>y = x + ((x − Da)/σa + (x′ − Db)/σb)·(σb − σa)/2 with the three scalars for the whole tensor.</summary>
    [Kernel]
    public static void HeunUniform(Index1D i, ArrayView<float> x, ArrayView<float> d, ArrayView<float> xNext, ArrayView<float> dNext,
        ArrayView<float> y, float invFrom, float invTo, float halfStep) =>
        y[i] = x[i] + ((x[i] - d[i]) * invFrom + (xNext[i] - dNext[i]) * invTo) * halfStep;

    /// <summary>y = α_b·D + (s_b/s_a)(x − α_a·D) (r = 0 where s_a = 0).</summary>
    [Kernel]
    public static void Ddim(Index1D i, ArrayView<float> x, ArrayView<float> d, ArrayView<float> alphaFrom, ArrayView<float> sigmaFrom,
        ArrayView<float> alphaTo, ArrayView<float> sigmaTo, ArrayView<float> y, int perSample)
    {
        int b = i / perSample;
        float r = sigmaFrom[b] == 0f ? 0f : sigmaTo[b] / sigmaFrom[b];
        y[i] = alphaTo[b] * d[i] + r * (x[i] - alphaFrom[b] * d[i]);
    }

    /// <summary>
    /// One group per sample: the normaliser mean|x_g − μr| + eps (when asked) by a group reduction,
    /// then grad = scale·(μf − μr)/normaliser.
    /// </summary>
    [Kernel(grouped: true)]
    public static void ScoreDifference(ArrayView<float> xg, ArrayView<float> real, ArrayView<float> fake, ArrayView<float> grad,
        int perSample, int normalise, float eps, float scale)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int o = Grid.IdxX * perSample;
        float k = scale;
        if (normalise != 0)
        {
            float s = 0f;
            for (int j = Group.IdxX; j < perSample; j += Group.DimX) s += MathF.Abs(xg[o + j] - real[o + j]);
            k = scale / (GroupReduce.Sum(s, scratch) / perSample + eps);
        }
        for (int j = Group.IdxX; j < perSample; j += Group.DimX) grad[o + j] = k * (fake[o + j] - real[o + j]);
    }

    /// <summary>target = y + δ(D − y), δ = max(1 − σs/σt, minDelta); weight = 1/δ².</summary>
    [Kernel]
    public static void BootTarget(Index1D i, ArrayView<float> y, ArrayView<float> d, ArrayView<float> sigmaFrom, ArrayView<float> sigmaTo,
        ArrayView<float> target, ArrayView<float> weight, int perSample, float minDelta)
    {
        int b = i / perSample;
        float delta = MathF.Max(1f - sigmaTo[b] / sigmaFrom[b], minDelta);
        target[i] = y[i] + delta * (d[i] - y[i]);
        if (i % perSample == 0) weight[b] = 1f / (delta * delta);
    }

    /// <summary>target = (x_c − r·x_a)/(1 − r) with r = σc/σa (x_c where σc = 0); weight = max(1, 1/σa²).</summary>
    [Kernel]
    public static void PdTarget(Index1D i, ArrayView<float> xa, ArrayView<float> xc, ArrayView<float> sigmaFrom, ArrayView<float> sigmaTo,
        ArrayView<float> target, ArrayView<float> weight, int perSample)
    {
        int b = i / perSample;
        float sa = sigmaFrom[b], r = sigmaTo[b] / sa, inv = 1f / (1f - r);
        target[i] = sigmaTo[b] == 0f ? xc[i] : (xc[i] - r * xa[i]) * inv;
        if (i % perSample == 0) weight[b] = MathF.Max(1f, 1f / (sa * sa));
    }

    /// <summary>
    /// The k-th smallest |x| (0-based) of a sample: bisection over the bit patterns of non-negative
    /// floats (ordered like the values), each step counting |x| ≤ v with a group reduction. Exact and
    /// deterministic in at most 31 passes, with no sorting buffer. Counts are exact below 2²⁴ elements.
    /// </summary>
    private static float KthAbs(ArrayView<float> x, int o, int n, int k, ArrayView<float> scratch)
    {
        int lo = 0, hi = 0x7F800000;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            float v = Interop.IntAsFloat((uint)mid);
            float c = 0f;
            for (int j = Group.IdxX; j < n; j += Group.DimX) c += MathF.Abs(x[o + j]) <= v ? 1f : 0f;
            if (GroupReduce.Sum(c, scratch) >= k + 1) hi = mid;
            else lo = mid + 1;
        }
        return Interop.IntAsFloat((uint)lo);
    }

    /// <summary>One group per sample: the threshold s (1, or max(1, quantile of |x0|)), then y = clamp(x0, −s, s)/s.</summary>
    [Kernel(grouped: true)]
    public static void ThresholdX0(ArrayView<float> x0, ArrayView<float> y, int perSample, float quantile)
    {
        var scratch = SharedMemory.Allocate<float>(GroupReduce.MaxWarps);
        int o = Grid.IdxX * perSample;
        float s = 1f;
        if (quantile > 0)
        {
            double pos = quantile * (double)(perSample - 1);
            int lo = (int)Math.Floor(pos);
            float f = (float)(pos - lo), q = KthAbs(x0, o, perSample, lo, scratch);
            if (f > 0) q += f * (KthAbs(x0, o, perSample, lo + 1, scratch) - q);
            s = MathF.Max(1f, q);
        }
        float inv = 1f / s;
        for (int j = Group.IdxX; j < perSample; j += Group.DimX) y[o + j] = MathF.Max(-s, MathF.Min(x0[o + j], s)) * inv;
    }
}
