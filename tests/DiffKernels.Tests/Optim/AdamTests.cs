using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Optim;

public class AdamTests
{
    /// <summary>Plain double Adam/AdamW on one parameter (the update as usually written, unfused).</summary>
    private sealed class RefAdam(double[] p, double beta1, double beta2, double eps, double wd, bool decoupled)
    {
        public readonly double[] P = (double[])p.Clone();
        private readonly double[] _m = new double[p.Length];
        private readonly double[] _v = new double[p.Length];
        private int _t;

        public void Step(double[] grad, double lr)
        {
            _t++;
            for (int i = 0; i < P.Length; i++)
            {
                double g = grad[i];
                if (decoupled) P[i] -= lr * wd * P[i];
                else g += wd * P[i];
                _m[i] = beta1 * _m[i] + (1 - beta1) * g;
                _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
                double mHat = _m[i] / (1 - Math.Pow(beta1, _t));
                double vHat = _v[i] / (1 - Math.Pow(beta2, _t));
                P[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
    }

    private static float[] Values(int n, int seed, double scale)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(0.9f, 0f, false).SetName("adam");
        yield return new TestCaseData(0f, 0f, false).SetName("adam beta1=0");
        yield return new TestCaseData(0.9f, 0.1f, false).SetName("adam l2 decay");
        yield return new TestCaseData(0.9f, 0.1f, true).SetName("adamw");
        yield return new TestCaseData(0f, 0.05f, true).SetName("adamw beta1=0");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesDoubleReferenceOverSeveralSteps(float beta1, float wd, bool decoupled)
    {
        // 37: vector body plus remainder; 100003: split across workers at unaligned boundaries.
        int[] sizes = [1, 37, 100_003];
        var ps = sizes.Select((n, k) => Tensor.FromArray(Values(n, k, 1.0), n).RequireGrad()).ToArray();
        var refs = ps.Select(p => new RefAdam(p.ToArray().Select(x => (double)x).ToArray(), beta1, 0.99, 1e-8, wd, decoupled)).ToArray();
        using var opt = decoupled
            ? new AdamW(ps, beta1: beta1, beta2: 0.99f, eps: 1e-8f, weightDecay: wd)
            : new Adam(ps, beta1: beta1, beta2: 0.99f, eps: 1e-8f, weightDecay: wd);
        float[] lrs = [0.01f, 0.02f, 0.005f, 0.01f, 0.03f, 0.001f];
        for (int step = 0; step < lrs.Length; step++)
        {
            opt.Lr = lrs[step];
            for (int k = 0; k < ps.Length; k++)
            {
                // Gradients of varied magnitude, including tiny ones where eps matters.
                var g = Values(sizes[k], 100 + 10 * step + k, step == 2 ? 1e-6 : 0.5);
                ps[k].Grad = Tensor.FromArray(g, sizes[k]);
                refs[k].Step(g.Select(x => (double)x).ToArray(), lrs[step]);
            }
            opt.Step();
        }
        for (int k = 0; k < ps.Length; k++)
        {
            var ours = ps[k].ToArray();
            double err = ours.Select((x, i) => Math.Abs(x - refs[k].P[i])).Max();
            Assert.That(err, Is.LessThan(2e-6), $"parameter {k} ({sizes[k]} elements): max |ours - ref| = {err:E2}");
            Assert.That(opt.StepCount(k), Is.EqualTo(lrs.Length));
        }
    }

    [Test]
    public void ParametersWithoutGradientAreSkippedAndKeepTheirOwnStepCount()
    {
        var a = Tensor.FromArray(Values(5, 1, 1), 5).RequireGrad();
        var b = Tensor.FromArray(Values(5, 2, 1), 5).RequireGrad();
        var refB = new RefAdam(b.ToArray().Select(x => (double)x).ToArray(), 0.9, 0.999, 1e-8, 0, false);
        using var opt = new Adam([a, b], lr: 0.1f);
        var bBefore = b.ToArray();
        a.Grad = Tensor.Ones([5]);
        opt.Step();
        Assert.That(b.ToArray(), Is.EqualTo(bBefore), "b had no gradient and must not move");
        Assert.That(opt.StepCount(0), Is.EqualTo(1));
        Assert.That(opt.StepCount(1), Is.EqualTo(0));

        opt.ZeroGrad();
        Assert.That(a.Grad, Is.Null);
        var g = Values(5, 3, 1);
        b.Grad = Tensor.FromArray(g, 5);
        refB.Step(g.Select(x => (double)x).ToArray(), 0.1);
        opt.Step();
        // b's first update must use t = 1 bias correction even though the optimiser has stepped before.
        Assert.That(b.ToArray().Select((x, i) => Math.Abs(x - refB.P[i])).Max(), Is.LessThan(1e-6));
        Assert.That(opt.StepCount(0), Is.EqualTo(1));
        Assert.That(opt.StepCount(1), Is.EqualTo(1));
    }

    [Test]
    public void StateRoundTripResumesBitExactly()
    {
        var init = Values(41, 7, 1);
        var pa = Tensor.FromArray(init, 41).RequireGrad();
        var pb = Tensor.FromArray(init, 41).RequireGrad();
        var skipped = Tensor.Zeros([3]).RequireGrad();
        using var full = new AdamW([pa], lr: 0.01f, weightDecay: 0.1f);
        var first = new AdamW([pb, skipped], lr: 0.01f, weightDecay: 0.1f);
        var grads = Enumerable.Range(0, 6).Select(s => Values(41, 50 + s, 1)).ToArray();
        for (int s = 0; s < 3; s++)
        {
            pa.Grad = Tensor.FromArray(grads[s], 41);
            pb.Grad = Tensor.FromArray(grads[s], 41);
            full.Step();
            first.Step();
        }
        using var scope = Tensor.Scope();
        var state = first.StateDict();
        Assert.That(state.Keys, Is.EqualTo(new[] { "0.exp_avg", "0.exp_avg_sq", "0.step" }));
        using var resumed = new AdamW([pb, skipped], lr: 0.01f, weightDecay: 0.1f);
        resumed.LoadStateDict(state);
        first.Dispose();
        Assert.That(resumed.StepCount(0), Is.EqualTo(3));
        for (int s = 3; s < 6; s++)
        {
            pa.Grad = Tensor.FromArray(grads[s], 41);
            pb.Grad = Tensor.FromArray(grads[s], 41);
            full.Step();
            resumed.Step();
        }
        Assert.That(pb.ToArray(), Is.EqualTo(pa.ToArray()));
    }

    [Test]
    public void LoadStateDictRejectsBadStateWithoutChangingAnything()
    {
        var p = Tensor.Zeros([4]).RequireGrad();
        using var opt = new Adam([p]);
        var bad = new Dictionary<string, Tensor>
        {
            ["0.exp_avg"] = Tensor.Zeros([5]),
            ["0.exp_avg_sq"] = Tensor.Zeros([4]),
            ["0.step"] = Tensor.Scalar(2.5f),
            ["9.exp_avg"] = Tensor.Zeros([4]),
        };
        var ex = Assert.Throws<ArgumentException>(() => opt.LoadStateDict(bad))!;
        Assert.That(ex.Message, Does.Contain("0.exp_avg has shape [5]"));
        Assert.That(ex.Message, Does.Contain("0.step must be a positive whole number"));
        Assert.That(ex.Message, Does.Contain("parameter 9").Or.Contain("unexpected keys: 9.exp_avg"));
        Assert.That(opt.StepCount(0), Is.EqualTo(0));
        Assert.Throws<ArgumentException>(() => opt.LoadStateDict(new Dictionary<string, Tensor> { ["0.step"] = Tensor.Scalar(1) }));
    }

    [Test]
    public void RejectsInvalidParametersAndHyperparameters()
    {
        var p = Tensor.Zeros([2]).RequireGrad();
        Assert.Throws<ArgumentException>(() => new Adam([Tensor.Zeros([2])]), "no grad");
        Assert.Throws<ArgumentException>(() => new Adam([p, p]), "duplicate");
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta2: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([p], weightDecay: -1f));
        using var opt = new Adam([p]);
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.Lr = float.NaN);
    }
}
