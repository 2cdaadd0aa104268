using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Optim;

public class EmaTests
{
    private sealed class Pair : Module
    {
        public Pair(float[] a, float[] b)
        {
            A = RegisterParameter("a", Tensor.FromArray(a));
            B = RegisterParameter("b", Tensor.FromArray(b, 2, b.Length / 2));
        }

        public Tensor A { get; }

        public Tensor B { get; }
    }

    private static void Set(Tensor t, float[] v) => t.Backend.Upload(v, t.Storage, 0);

    [Test]
    public void UpdateIsAnExponentialMovingAverage()
    {
        float[] a0 = [1f, -2f, 3f], b0 = [0.5f, 0.25f, -1f, 4f];
        using var net = new Pair(a0, b0);
        using var ema = new Ema(net);
        Assert.That(ema.Shadow.Keys, Is.EqualTo(new[] { "a", "b" }));
        double[] sa = a0.Select(x => (double)x).ToArray(), sb = b0.Select(x => (double)x).ToArray();
        var r = new System.Random(3);
        float[] betas = [0.9f, 0.5f, 0.99f, 0f, 1f];
        foreach (var beta in betas)
        {
            var na = a0.Select(_ => (float)r.NextDouble()).ToArray();
            var nb = b0.Select(_ => (float)r.NextDouble()).ToArray();
            Set(net.A, na);
            Set(net.B, nb);
            ema.Update(beta);
            for (int i = 0; i < sa.Length; i++) sa[i] = beta * sa[i] + (1 - beta) * na[i];
            for (int i = 0; i < sb.Length; i++) sb[i] = beta * sb[i] + (1 - beta) * nb[i];
            Assert.That(ema.Shadow["a"].ToArray(), Is.EqualTo(sa).Within(1e-6), $"beta {beta}");
            Assert.That(ema.Shadow["b"].ToArray(), Is.EqualTo(sb).Within(1e-6), $"beta {beta}");
        }
    }

    [Test]
    public void ShadowIsACopyAndCopyToWritesItBack()
    {
        using var net = new Pair([1f, 2f], [3f, 4f]);
        using var ema = new Ema(net);
        Set(net.A, [10f, 20f]);
        Assert.That(ema.Shadow["a"].ToArray(), Is.EqualTo(new[] { 1f, 2f }), "shadow must not alias the parameter");
        ema.Update(0.75f);
        using var target = new Pair([0f, 0f], [0f, 0f]);
        ema.CopyTo(target);
        Assert.That(target.A.ToArray(), Is.EqualTo(new[] { 3.25f, 6.5f }));
        Assert.That(target.B.ToArray(), Is.EqualTo(new[] { 3f, 4f }));
        using var other = new Pair([0f, 0f, 0f], [0f, 0f]);
        Assert.Throws<ArgumentException>(() => ema.CopyTo(other));
    }

    [Test]
    public void LoadReplacesShadowsAndChecksNames()
    {
        using var net = new Pair([1f, 2f], [3f, 4f]);
        using var ema = new Ema(net);
        ema.Load(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray([5f, 6f]), ["b"] = Tensor.FromArray([7f, 8f], 2, 1) });
        Assert.That(ema.Shadow["a"].ToArray(), Is.EqualTo(new[] { 5f, 6f }));
        var ex = Assert.Throws<ArgumentException>(() => ema.Load(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray([5f]), ["c"] = Tensor.Zeros([1]) }))!;
        Assert.That(ex.Message, Does.Contain("missing [b]").And.Contain("unexpected [c]").And.Contain("a ([1] vs [2])"));
        Assert.That(ema.Shadow["a"].ToArray(), Is.EqualTo(new[] { 5f, 6f }));
    }

    [Test]
    public void HalfLifeRule()
    {
        // One half-life of images halves the weight of the old average.
        float beta = Ema.HalfLifeBeta(batchSize: 32, halfLifeImages: 3200);
        Assert.That(Math.Pow(beta, 100), Is.EqualTo(0.5).Within(1e-5));
        Assert.That(beta, Is.EqualTo(Math.Pow(0.5, 0.01)).Within(1e-7));
        // Ramp: the half-life is min(h, ratio · seen).
        Assert.That(Ema.HalfLifeBeta(32, 3200, imagesSeen: 1000, rampRatio: 0.05), Is.EqualTo(Math.Pow(0.5, 32 / 50.0)).Within(1e-7));
        Assert.That(Ema.HalfLifeBeta(32, 3200, imagesSeen: 10_000_000, rampRatio: 0.05), Is.EqualTo(beta));
        Assert.That(Ema.HalfLifeBeta(32, 3200, imagesSeen: 0, rampRatio: 0.05), Is.EqualTo(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ema.HalfLifeBeta(0, 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ema.HalfLifeBeta(4, 0));
    }

    [Test]
    public void UpdateRejectsBetaOutsideUnitInterval()
    {
        using var net = new Pair([1f], [1f, 2f]);
        using var ema = new Ema(net);
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.Update(1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => ema.Update(float.NaN));
    }
}
