using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Schedules;

public class EdmTests
{
    private static readonly double[] Sigmas = [0.002, 0.05, 0.5, 1, 3.7, 80];

    [Test]
    public void CoefficientsMatchTheirDefinitionsAndLambdaCOutSquaredIsOne()
    {
        var edm = new Edm();
        foreach (var sigma in Sigmas)
        {
            var c = edm.Coefficients(sigma);
            double t = sigma * sigma + 0.25;
            Assert.That(c.CSkip, Is.EqualTo(0.25 / t).Within(1e-15));
            Assert.That(c.COut, Is.EqualTo(sigma * 0.5 / Math.Sqrt(t)).Within(1e-15));
            Assert.That(c.CIn, Is.EqualTo(1 / Math.Sqrt(t)).Within(1e-15));
            Assert.That(c.CNoise, Is.EqualTo(Math.Log(sigma) / 4).Within(1e-15));
            Assert.That(edm.LossWeight(sigma) * c.COut * c.COut, Is.EqualTo(1).Within(1e-12));
            // D = c_skip·x + c_out·F keeps unit variance for data of std σd: c_skip²(σd² + σ²) + c_out² = σd².
            Assert.That(c.CSkip * c.CSkip * t + c.COut * c.COut, Is.EqualTo(0.25).Within(1e-12));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => edm.Coefficients(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Edm(sigmaData: -1));
    }

    /// <summary>A network that outputs the exact target (x0 − c_skip·x)/c_out for known x0.</summary>
    private sealed class OracleNet(Edm edm, float[] x0) : INoiseNet
    {
        public int NumClasses => 0;

        public Shape SampleShape => [3];

        public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
        {
            float[] xs = x.ToArray(), cs = cNoise.ToArray();
            var f = new float[xs.Length];
            for (int i = 0; i < xs.Length; i++)
            {
                var c = edm.Coefficients(Math.Exp(4.0 * cs[i / 3]));
                double xi = xs[i] / c.CIn;
                f[i] = (float)((x0[i] - c.CSkip * xi) / c.COut);
            }
            return Tensor.FromSpan(f, x.Shape);
        }
    }

    [Test]
    public void DenoiserReturnsX0WhenFIsTheExactTargetAndTheLossVanishes()
    {
        var edm = new Edm();
        using var _ = Tensor.Scope();
        var gen = new Generator(1);
        var x0 = gen.Normal([4, 3]);
        var noise = gen.Normal([4, 3]);
        var sigma = Tensor.FromArray([0.01f, 0.4f, 2f, 60f]);
        var net = new OracleNet(edm, x0.ToArray());
        var x = x0 + noise * sigma.Reshape(4, 1);
        var d = edm.Denoise(net, x, sigma).ToArray();
        var expected = x0.ToArray();
        for (int i = 0; i < d.Length; i++) Assert.That(d[i], Is.EqualTo(expected[i]).Within(2e-3 + 1e-4 * Math.Abs(x.ToArray()[i])));
        Assert.That(edm.Loss(net, x0, sigma, noise).Item(), Is.LessThan(1e-6));
    }

    [Test]
    public void LossIsTheLambdaWeightedDenoisingErrorSummedOverPixelsAndAveragedOverTheBatch()
    {
        var edm = new Edm();
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(2));
        using var _ = Tensor.Scope();
        var gen = new Generator(3);
        var x0 = gen.Normal([5, 2]);
        var noise = gen.Normal([5, 2]);
        var sigmaValues = new[] { 0.02f, 0.3f, 1f, 5f, 40f };
        var sigma = Tensor.FromArray(sigmaValues);
        double loss = edm.Loss(net, x0, sigma, noise).Item();

        var x = x0 + noise * sigma.Reshape(5, 1);
        var d = edm.Denoise(net, x, sigma).ToArray();
        var target = x0.ToArray();
        double expected = 0;
        for (int i = 0; i < 5; i++)
            expected += edm.LossWeight(sigmaValues[i]) * (Math.Pow(d[2 * i] - target[2 * i], 2) + Math.Pow(d[2 * i + 1] - target[2 * i + 1], 2)) / 5;
        Assert.That(loss, Is.EqualTo(expected).Within(1e-3 * expected));

        // Per-sample σ and a shared σ agree.
        var shared = edm.Denoise(net, x, Tensor.Full([5], 0.3f)).ToArray();
        Assert.That(edm.Denoise(net, x, 0.3).ToArray(), Is.EqualTo(shared).Within(1e-5));
    }

    [Test]
    public void LossGradientReachesTheNetworkOnly()
    {
        var edm = new Edm();
        using var net = new Mlp(new MlpConfig(Hidden: 8), new Generator(4));
        using var _ = Tensor.Scope();
        var loss = edm.Loss(net, new Generator(5).Normal([3, 2]), null, new Generator(6));
        loss.Backward();
        Assert.That(net.Parameters().All(p => p.Grad != null));
    }

    [Test]
    public void SigmaIsLogNormalWithTheConfiguredMoments()
    {
        var edm = new Edm();
        using var _ = Tensor.Scope();
        var s = edm.SampleSigma(20_000, new Generator(7)).ToArray();
        var logs = s.Select(v => Math.Log(v)).ToArray();
        double mean = logs.Average(), std = Math.Sqrt(logs.Select(v => (v - mean) * (v - mean)).Average());
        Assert.That(mean, Is.EqualTo(-1.2).Within(0.03));
        Assert.That(std, Is.EqualTo(1.2).Within(0.03));
        Assert.That(edm.SampleSigma(20_000, new Generator(7)).ToArray(), Is.EqualTo(s), "deterministic by seed");
    }

    [Test]
    public void GuidanceCombinesConditionalAndUnconditionalBranches()
    {
        var edm = new Edm();
        var net = new GaussianDenoiserNet(edm, 0.5, [0, 0], [[1, -1], [-2, 0.5]]);
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([0.3f, 0.1f, -0.7f, 1.2f], 2, 2);
        var labels = Tensor.FromArray([0f, 1f]);
        var cond = edm.Denoise(net, x, 0.8, labels).ToArray();
        var uncond = edm.Denoise(net, x, 0.8, Tensor.FromArray([-1f, -1f])).ToArray();
        var guided = edm.GuidedDenoise(net, x, 0.8, labels, 3).ToArray();
        for (int i = 0; i < 4; i++) Assert.That(guided[i], Is.EqualTo(uncond[i] + 3 * (cond[i] - uncond[i])).Within(1e-5));
        Assert.That(edm.GuidedDenoise(net, x, 0.8, labels, 1).ToArray(), Is.EqualTo(cond));
        Assert.That(cond[0], Is.EqualTo(net.D(0.3, 0.8, 1)).Within(1e-5));
    }

    [Test]
    public void KarrasGridMatchesTheFormula()
    {
        var g = SigmaGrid.Karras(18);
        Assert.That(g, Has.Length.EqualTo(19));
        Assert.That(g[0], Is.EqualTo(80).Within(1e-12));
        Assert.That(g[17], Is.EqualTo(0.002).Within(1e-15));
        Assert.That(g[18], Is.Zero);
        double a = Math.Pow(80, 1 / 7.0), b = Math.Pow(0.002, 1 / 7.0);
        Assert.That(g[5], Is.EqualTo(Math.Pow(a + 5 / 17.0 * (b - a), 7)).Within(1e-12));
        for (int i = 0; i < 18; i++) Assert.That(g[i], Is.GreaterThan(g[i + 1]));
        Assert.That(SigmaGrid.Karras(1), Is.EqualTo(new[] { 80.0, 0 }));
    }

    [Test]
    public void VpGridIsUniformInTime()
    {
        var g = SigmaGrid.VpUniform(11);
        double Sigma(double t) => Math.Sqrt(Math.Exp(0.5 * 19.9 * t * t + 0.1 * t) - 1);
        Assert.That(g[0], Is.EqualTo(Sigma(1)).Within(1e-9));
        Assert.That(g[5], Is.EqualTo(Sigma(1 + 0.5 * (1e-3 - 1))).Within(1e-12));
        Assert.That(g[10], Is.EqualTo(Sigma(1e-3)).Within(1e-15));
        Assert.That(g[11], Is.Zero);
    }
}
