using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// Elements per block of the one-pass Adam+EMA: the block stays in L1 between the update and the shadow's lerp, so
    /// memory sees each element once.
    /// </summary>
    private const int AdamBlock = 2048;

    /// <inheritdoc/>
    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        var c = AdamConstants.For(lr, beta1, beta2, eps, weightDecay, decoupled, step);
        var pv = ((CpuBuffer)param).Data;
        var gv = ((CpuBuffer)grad).Data;
        var mv = ((CpuBuffer)m).Data;
        var vv = ((CpuBuffer)v).Data;
        CpuParallel.For(n, 16, (s, e) =>
        {
            int start = (int)s, len = (int)(e - s);
            AdamRange(c, 1f, pv.AsSpan(start, len), gv.AsSpan(start, len), mv.AsSpan(start, len), vv.AsSpan(start, len));
        });
    }

    /// <inheritdoc/>
    public void AdamEmaStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, DeviceBuffer? shadow, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step, float gradScale, float emaWeight)
    {
        var c = AdamConstants.For(lr, beta1, beta2, eps, weightDecay, decoupled, step);
        var pv = ((CpuBuffer)param).Data;
        var gv = ((CpuBuffer)grad).Data;
        var mv = ((CpuBuffer)m).Data;
        var vv = ((CpuBuffer)v).Data;
        var sv = (shadow as CpuBuffer)?.Data;
        CpuParallel.For(n, 20, (s, e) =>
        {
            for (long a = s; a < e; a += AdamBlock)
            {
                int start = (int)a, len = (int)Math.Min(AdamBlock, e - a);
                var ps = pv.AsSpan(start, len);
                AdamRange(c, gradScale, ps, gv.AsSpan(start, len), mv.AsSpan(start, len), vv.AsSpan(start, len));
                if (sv is { } shadowValues)
                {
                    // The same call as Lerp, so the shadow rounds exactly as an EMA update after the step does.
                    var ss = shadowValues.AsSpan(start, len);
                    TensorPrimitives.Lerp(ss, ps, emaWeight, ss);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void SumOfSquares(DeviceBuffer x, long[] offsets, long[] lengths, DeviceBuffer result)
    {
        var xv = ((CpuBuffer)x).Data;
        var sums = new float[offsets.Length];
        long mean = offsets.Length == 0 ? 0 : lengths.Sum() / offsets.Length;
        CpuParallel.For(offsets.Length, mean, (s, e) =>
        {
            for (long k = s; k < e; k++) sums[k] = TensorPrimitives.SumOfSquares<float>(xv.AsSpan((int)offsets[k], (int)lengths[k]));
        });
        // In order, starting from the first sum (not from 0): what adding per-tensor sums one after another gives.
        float total = sums.Length == 0 ? 0f : sums[0];
        for (int k = 1; k < sums.Length; k++) total += sums[k];
        ((CpuBuffer)result).Data[0] = total;
    }

    /// <summary>Per-call scalars of the Adam update, folded once so the inner loop is pure multiply-add.</summary>
    private readonly record struct AdamConstants(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2,
        float StepSize, float InvSqrtBc2, float Eps, float L2, float Shrink)
    {
        public static AdamConstants For(float lr, float beta1, float beta2, float eps, float wd, bool decoupled, int step)
        {
            // Bias corrections in double: for β₂ close to 1 and small t, 1 − β₂ᵗ loses digits in float.
            double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
            return new AdamConstants(beta1, 1 - beta1, beta2, 1 - beta2, (float)(lr / bc1), (float)(1 / Math.Sqrt(bc2)), eps,
                decoupled ? 0f : wd, decoupled ? 1f - lr * wd : 1f);
        }
    }

    /// <summary>The Adam update of one range, the gradient multiplied by <paramref name="gradScale"/> first (1: unchanged, exactly).</summary>
    private static void AdamRange(in AdamConstants c, float gradScale, Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
    {
        var pV = MemoryMarshal.Cast<float, Vector<float>>(p);
        var gV = MemoryMarshal.Cast<float, Vector<float>>(g);
        var mV = MemoryMarshal.Cast<float, Vector<float>>(m);
        var vV = MemoryMarshal.Cast<float, Vector<float>>(v);
        var b1 = new Vector<float>(c.Beta1);
        var ob1 = new Vector<float>(c.OneMinusBeta1);
        var b2 = new Vector<float>(c.Beta2);
        var ob2 = new Vector<float>(c.OneMinusBeta2);
        var stepSize = new Vector<float>(c.StepSize);
        var invSqrtBc2 = new Vector<float>(c.InvSqrtBc2);
        var eps = new Vector<float>(c.Eps);
        var l2 = new Vector<float>(c.L2);
        var shrink = new Vector<float>(c.Shrink);
        var scale = new Vector<float>(gradScale);
        for (int i = 0; i < pV.Length; i++)
        {
            var pi = pV[i];
            var gi = gV[i] * scale + l2 * pi;
            var mi = b1 * mV[i] + ob1 * gi;
            var vi = b2 * vV[i] + ob2 * (gi * gi);
            mV[i] = mi;
            vV[i] = vi;
            pV[i] = pi * shrink - stepSize * mi / (Vector.SquareRoot(vi) * invSqrtBc2 + eps);
        }
        for (int i = pV.Length * Vector<float>.Count; i < p.Length; i++)
        {
            float pi = p[i];
            float gi = g[i] * gradScale + c.L2 * pi;
            float mi = c.Beta1 * m[i] + c.OneMinusBeta1 * gi;
            float vi = c.Beta2 * v[i] + c.OneMinusBeta2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] = pi * c.Shrink - c.StepSize * mi / (MathF.Sqrt(vi) * c.InvSqrtBc2 + c.Eps);
        }
    }

    /// <inheritdoc/>
    public void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight)
    {
        var d = ((CpuBuffer)dst).Data;
        var s = ((CpuBuffer)src).Data;
        CpuParallel.For(n, 4, (a, b) =>
        {
            var ds = d.AsSpan((int)a, (int)(b - a));
            System.Numerics.Tensors.TensorPrimitives.Lerp(ds, s.AsSpan((int)a, (int)(b - a)), weight, ds);
        });
    }
}
