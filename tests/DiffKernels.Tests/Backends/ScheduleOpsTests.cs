using DiffKernels.Tensors;

namespace DiffKernels.Tests.Backends;

/// <summary>
/// The CPU reference of the fused schedule ops against plain double-precision formulas, plus the
/// identities that make them correct as a whole (D of the training target is x0; one Euler step to
/// the PD target lands on the teacher's point).
/// </summary>
public class ScheduleOpsTests
{
    private const int B = 3, P = 11;
    private const double Tol = 2e-6;

    private static float[] Random(int n, double lo, double hi, int seed)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();
    }

    private static Tensor T(float[] v) => Tensor.FromArray(v, v.Length);

    private static Tensor Empty(int n) => Tensor.Empty([n]);

    private static void Close(float[] actual, Func<int, double> expected, string what, Func<int, double>? extra = null)
    {
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected(i);
            Assert.That(actual[i], Is.EqualTo(e).Within(Tol * (1 + Math.Abs(e)) + (extra?.Invoke(i) ?? 0)), $"{what}[{i}]");
        }
    }

    [Test]
    public void EdmTrainingInputsMatchThePreconditioning()
    {
        using var scope = Tensor.Scope();
        var x0 = Random(B * P, -1, 1, 1);
        var n = Random(B * P, -2, 2, 2);
        float[] sigma = [0.002f, 0.9f, 80f];
        Tensor x = Empty(B * P), netIn = Empty(B * P), target = Empty(B * P), cNoise = Empty(B);
        var be = x.Backend;
        be.EdmTrainingInputs(T(x0).Storage, T(n).Storage, T(sigma).Storage, x.Storage, netIn.Storage, target.Storage, cNoise.Storage, B, P, 0.5f);
        double Sd2(int i) => 0.25 + (double)sigma[i / P] * sigma[i / P];
        double Xn(int i) => (double)x0[i] + (double)sigma[i / P] * n[i];
        Close(x.ToArray(), Xn, "x");
        Close(netIn.ToArray(), i => Xn(i) / Math.Sqrt(Sd2(i)), "netIn");
        double COut(int i) => sigma[i / P] * 0.5 / Math.Sqrt(Sd2(i));
        // x0 − c_skip·x cancels at small σ, and the division by c_out amplifies float rounding there.
        Close(target.ToArray(), i => (x0[i] - 0.25 / Sd2(i) * Xn(i)) / COut(i), "target",
            i => 3e-7 * (Math.Abs(x0[i]) + Math.Abs(Xn(i))) / COut(i));
        Close(cNoise.ToArray(), b => Math.Log(sigma[b]) / 4, "cNoise");

        // D(x) with the network output equal to the target reproduces x0: the target is exact.
        var d = Empty(B * P);
        be.EdmDenoise(x.Storage, target.Storage, T(sigma).Storage, d.Storage, B, P, 0.5f);
        var dv = d.ToArray();
        for (int i = 0; i < dv.Length; i++) Assert.That(dv[i], Is.EqualTo(x0[i]).Within(1e-4 + 2e-5 * sigma[i / P]), $"D[{i}]");
    }

    [Test]
    public void SamplerStepsFollowTheOde()
    {
        using var scope = Tensor.Scope();
        var x = Random(B * P, -5, 5, 3);
        var d = Random(B * P, -1, 1, 4);
        var xn = Random(B * P, -4, 4, 5);
        var dn = Random(B * P, -1, 1, 6);
        float[] sa = [80f, 2f, 0.5f], sb = [60f, 1f, 0f];
        var y = Empty(B * P);
        var be = y.Backend;
        be.EulerStep(T(x).Storage, T(d).Storage, T(sa).Storage, T(sb).Storage, y.Storage, B, P);
        Close(y.ToArray(), i => d[i] + (double)sb[i / P] / sa[i / P] * (x[i] - d[i]), "euler");

        be.HeunStep(T(x).Storage, T(d).Storage, T(xn).Storage, T(dn).Storage, T(sa).Storage, T(sb).Storage, y.Storage, B, P);
        Close(y.ToArray(), i =>
        {
            double a = sa[i / P], b = sb[i / P];
            return b == 0 ? xn[i] : x[i] + (b - a) * (((double)x[i] - d[i]) / a + ((double)xn[i] - dn[i]) / b) / 2;
        }, "heun");

        float[] aa = [0.1f, 0.6f, 1f], ab = [0.3f, 0.9f, 1f], ssa = [0.995f, 0.8f, 0f], ssb = [0.954f, 0.436f, 0f];
        be.DdimStep(T(x).Storage, T(d).Storage, T(aa).Storage, T(ssa).Storage, T(ab).Storage, T(ssb).Storage, y.Storage, B, P);
        Close(y.ToArray(), i =>
        {
            int s = i / P;
            double r = ssa[s] == 0 ? 0 : (double)ssb[s] / ssa[s];
            return ab[s] * (double)d[i] + r * (x[i] - aa[s] * (double)d[i]);
        }, "ddim");

        // With α = 1 and s = σ, DDIM is the Euler step.
        float[] one = [1f, 1f, 1f];
        var euler = Empty(B * P);
        be.EulerStep(T(x).Storage, T(d).Storage, T([80f, 2f, 0.5f]).Storage, T([60f, 1f, 0.1f]).Storage, euler.Storage, B, P);
        be.DdimStep(T(x).Storage, T(d).Storage, T(one).Storage, T([80f, 2f, 0.5f]).Storage, T(one).Storage, T([60f, 1f, 0.1f]).Storage, y.Storage, B, P);
        Assert.That(y.ToArray(), Is.EqualTo(euler.ToArray()).Within(1e-5));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ScoreDifferenceScalesByTheNormaliser(bool normalise)
    {
        using var scope = Tensor.Scope();
        var xg = Random(B * P, -1, 1, 7);
        var real = Random(B * P, -1, 1, 8);
        var fake = Random(B * P, -1, 1, 9);
        var g = Empty(B * P);
        g.Backend.ScoreDifference(T(xg).Storage, T(real).Storage, T(fake).Storage, g.Storage, B, P, normalise, 1e-6f, 0.25f);
        Close(g.ToArray(), i =>
        {
            int s = i / P;
            double w = 1;
            if (normalise) w = Enumerable.Range(s * P, P).Average(j => Math.Abs((double)xg[j] - real[j])) + 1e-6;
            return 0.25 * ((double)fake[i] - real[i]) / w;
        }, "grad");
    }

    [Test]
    public void BootTargetClampsTheStepAndWeightsByItsInverseSquare()
    {
        using var scope = Tensor.Scope();
        var y = Random(B * P, -1, 1, 10);
        var d = Random(B * P, -1, 1, 11);
        float[] st = [80f, 1f, 0.5f], ss = [60f, 0.999f, 0.2f];
        Tensor t = Empty(B * P), w = Empty(B);
        t.Backend.BootTarget(T(y).Storage, T(d).Storage, T(st).Storage, T(ss).Storage, t.Storage, w.Storage, B, P, 0.01f);
        double Delta(int s) => Math.Max(1 - (double)ss[s] / st[s], 0.01);
        Close(t.ToArray(), i => y[i] + Delta(i / P) * ((double)d[i] - y[i]), "target");
        Close(w.ToArray(), s => 1 / (Delta(s) * Delta(s)), "weight");
        Assert.That(Delta(1), Is.EqualTo(0.01), "the second pair is closer than the clamp");
    }

    [Test]
    public void PdTargetIsTheX0WhoseEulerStepLandsOnTheTeacher()
    {
        using var scope = Tensor.Scope();
        var xa = Random(B * P, -5, 5, 12);
        var xc = Random(B * P, -2, 2, 13);
        float[] sa = [80f, 0.5f, 2f], sc = [40f, 0.2f, 0f];
        Tensor t = Empty(B * P), w = Empty(B), landed = Empty(B * P);
        var be = t.Backend;
        be.PdTarget(T(xa).Storage, T(xc).Storage, T(sa).Storage, T(sc).Storage, t.Storage, w.Storage, B, P);
        Close(w.ToArray(), s => Math.Max(1, 1 / ((double)sa[s] * sa[s])), "weight");
        be.EulerStep(T(xa).Storage, t.Storage, T(sa).Storage, T(sc).Storage, landed.Storage, B, P);
        var l = landed.ToArray();
        for (int i = 0; i < l.Length; i++) Assert.That(l[i], Is.EqualTo(xc[i]).Within(1e-4), $"landed[{i}]");
    }

    [TestCase(0f)]
    [TestCase(0.5f)]
    [TestCase(0.9f)]
    [TestCase(1f)]
    public void ThresholdClipsAndRescales(float quantile)
    {
        using var scope = Tensor.Scope();
        var x = Random(B * P, -3, 3, 14);
        x[P] = 0.25f;
        var y = Empty(B * P);
        y.Backend.ThresholdX0(T(x).Storage, y.Storage, B, P, quantile);
        double S(int s)
        {
            if (quantile <= 0) return 1;
            var a = Enumerable.Range(s * P, P).Select(j => (double)Math.Abs(x[j])).Order().ToArray();
            double pos = quantile * (P - 1);
            int lo = (int)Math.Floor(pos);
            double q = lo + 1 < P ? a[lo] + (pos - lo) * (a[lo + 1] - a[lo]) : a[lo];
            return Math.Max(1, q);
        }
        Close(y.ToArray(), i => Math.Clamp(x[i], -S(i / P), S(i / P)) / S(i / P), "y");
        Assert.That(y.ToArray().All(v => Math.Abs(v) <= 1f), "every value ends in [−1, 1]");
    }
}
