using System.Numerics;
using System.Runtime.InteropServices;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
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
            AdamRange(c, pv.AsSpan(start, len), gv.AsSpan(start, len), mv.AsSpan(start, len), vv.AsSpan(start, len));
        });
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

    private static void AdamRange(in AdamConstants c, Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v)
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
        for (int i = 0; i < pV.Length; i++)
        {
            var pi = pV[i];
            var gi = gV[i] + l2 * pi;
            var mi = b1 * mV[i] + ob1 * gi;
            var vi = b2 * vV[i] + ob2 * (gi * gi);
            mV[i] = mi;
            vV[i] = vi;
            pV[i] = pi * shrink - stepSize * mi / (Vector.SquareRoot(vi) * invSqrtBc2 + eps);
        }
        for (int i = pV.Length * Vector<float>.Count; i < p.Length; i++)
        {
            float pi = p[i];
            float gi = g[i] + c.L2 * pi;
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
