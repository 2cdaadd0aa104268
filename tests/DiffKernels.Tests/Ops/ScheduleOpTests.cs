using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

/// <summary>
/// The F-level schedule ops: bit for bit the chains they replaced (<see cref="ScheduleChains"/>) on the CPU, the
/// denoiser's backward against finite differences, and no silent loss of a gradient where none flows.
/// </summary>
public class ScheduleOpTests
{
    private static readonly int[] Batch = [7, 5, 3, 2];
    private static readonly float[] Sigmas = [0.002f, 0.031f, 0.4f, 1f, 3.7f, 21.5f, 80f];

    private static Tensor Uniform(int[] shape, float lo, float hi, ulong seed) => new Generator(seed).Uniform(shape, null, lo, hi);

    private static Tensor Sigma() => Tensor.FromArray(Sigmas, Sigmas.Length);

    private static void SameBits(Tensor actual, Tensor expected, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), what);
        Assert.That(actual.ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.ToArray().Select(BitConverter.SingleToInt32Bits)), what);
    }

    [TestCase(0.5f)]
    [TestCase(0.37f)]
    public void TrainingInputsAreTheChainBitForBit(float sd)
    {
        using var scope = Tensor.Scope();
        var (x0, noise) = (Uniform(Batch, -1, 1, 1), Uniform(Batch, -3, 3, 2));
        var fused = F.EdmTrainingInputs(x0, noise, Sigma(), sd);
        var chain = ScheduleChains.TrainingInputs(x0, noise, Sigma(), sd);
        SameBits(fused.X, chain.X, "x");
        SameBits(fused.NetIn, chain.NetIn, "network input");
        SameBits(fused.Target, chain.Target, "target");
        SameBits(fused.CNoise, chain.CNoise, "c_noise");
    }

    [TestCase(0.5f)]
    [TestCase(0.37f)]
    public void DenoiseIsTheChainBitForBit(float sd)
    {
        using var scope = Tensor.Scope();
        var (x, f) = (Uniform(Batch, -80, 80, 3), Uniform(Batch, -2, 2, 4));
        SameBits(F.EdmDenoise(x, f, Sigma(), sd), ScheduleChains.Denoise(x, f, Sigma(), sd), "per-sample σ");
        foreach (double sigma in new[] { 80, 57.58, 2.5, 0.0021 })
        {
            var c = new Edm(sd).Coefficients(sigma);
            SameBits(F.EdmDenoise(x, f, (float)c.CSkip, (float)c.COut), ScheduleChains.Denoise(x, f, sigma, sd), $"σ = {sigma}");
        }
    }

    [Test]
    public void EdmLossAndDenoiserAreTheChainBitForBit()
    {
        using var scope = Tensor.Scope();
        var edm = new Edm();
        var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(5));
        var (x0, noise) = (Uniform([7, 2], -1, 1, 6), Uniform([7, 2], -3, 3, 7));
        var (_, netIn, target, cNoise) = ScheduleChains.TrainingInputs(x0, noise, Sigma(), 0.5f);
        var chainLoss = F.MulScalar(F.Sum(F.Square(F.Sub(net.Forward(netIn, cNoise, null), target))), 1f / 7);
        Assert.That(BitConverter.SingleToInt32Bits(edm.Loss(net, x0, Sigma(), noise).Item()), Is.EqualTo(BitConverter.SingleToInt32Bits(chainLoss.Item())));

        var x = Uniform([7, 2], -30, 30, 8);
        var (_, _, cIn, cNoiseX) = ScheduleChains.Coefficients(Sigma(), x, 0.5f);
        SameBits(edm.Denoise(net, x, Sigma()), ScheduleChains.Denoise(x, net.Forward(F.Mul(x, cIn), cNoiseX, null), Sigma(), 0.5f), "D(x; σ)");
    }

    [Test]
    public void SamplerStepsAreTheChainsBitForBit()
    {
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var (x, d, xn, dn) = (Uniform(Batch, -80, 80, 9), Uniform(Batch, -1, 1, 10), Uniform(Batch, -60, 60, 11), Uniform(Batch, -1, 1, 12));
        foreach (var (a, b) in new[] { (80.0, 57.58), (2.5, 1.9), (0.0128, 0.002), (0.002, 0.0) })
        {
            SameBits(F.EulerStep(x, d, (float)(b / a)), ScheduleChains.Euler(x, d, a, b), $"Euler {a} → {b}");
            if (b > 0)
                SameBits(F.HeunStep(x, d, xn, dn, (float)(1 / a), (float)(1 / b), (float)(0.5 * (b - a))), ScheduleChains.Heun(x, d, xn, dn, a, b), $"Heun {a} → {b}");
        }
    }

    [Test]
    public void ScoreDifferenceIsTheDenoisersDifferenceBitForBit()
    {
        using var scope = Tensor.Scope();
        var (xg, real, fake) = (Uniform(Batch, -1, 1, 13), Uniform(Batch, -1, 1, 14), Uniform(Batch, -1, 1, 15));
        SameBits(F.ScoreDifference(xg, real, fake), F.Sub(fake, real), "D_φ − D_T");
        SameBits(F.ScoreDifference(xg, real, fake, scale: 1f / 7), F.MulScalar(F.Sub(fake, real), 1f / 7), "scaled");
    }

    private static double[] Denoise(double[] x, double[] f, Func<int, double> sigma, int perSample, double sd)
    {
        var d = new double[x.Length];
        for (int i = 0; i < d.Length; i++)
        {
            double s = sigma(i / perSample), total = s * s + sd * sd;
            d[i] = sd * sd / total * x[i] + s * sd / Math.Sqrt(total) * f[i];
        }
        return d;
    }

    [Test]
    public void DenoiseBackwardMatchesFiniteDifferences()
    {
        OpCheck.Run("edm denoise, per-sample σ", [new Shape(4, 3, 5), new Shape(4, 3, 5), new Shape(4)],
            t => F.EdmDenoise(t[0], t[1], t[2], 0.5f), r => Denoise(r[0], r[1], b => r[2][b], 15, 0.5),
            new OpCheckOptions { Differentiable = [true, true, false], Sample = (i, g) => i == 2 ? Math.Exp(6 * g.NextDouble() - 4) : 4 * g.NextDouble() - 2 });
        var c = new Edm().Coefficients(1.7);
        OpCheck.Run("edm denoise, one σ", [new Shape(3, 5), new Shape(3, 5)],
            t => F.EdmDenoise(t[0], t[1], (float)c.CSkip, (float)c.COut), r => Denoise(r[0], r[1], _ => 1.7, 5, 0.5),
            new OpCheckOptions { ForwardTol = 1e-6 });
    }

    [Test]
    public void OpsWithoutAGradientRefuseInputsThatNeedOne()
    {
        using var scope = Tensor.Scope();
        var x = Uniform([3, 4], -1, 1, 16);
        x.RequiresGrad = true;
        var d = Uniform([3, 4], -1, 1, 17);
        Assert.Throws<InvalidOperationException>(() => F.EulerStep(x, d, 0.5f));
        Assert.Throws<InvalidOperationException>(() => F.ScoreDifference(x, d, d));
        Assert.Throws<InvalidOperationException>(() => F.EdmTrainingInputs(x, d, Tensor.Full([3], 1f), 0.5f));
        using (Tensor.NoGrad()) Assert.That(F.EulerStep(x, d, 0.5f).Shape, Is.EqualTo(x.Shape));
        var sigma = Tensor.Full([3], 1f);
        sigma.RequiresGrad = true;
        Assert.Throws<InvalidOperationException>(() => F.EdmDenoise(d, d, sigma, 0.5f));
    }
}
