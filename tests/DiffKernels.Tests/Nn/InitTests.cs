using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Nn;

public class InitTests
{
    [Test]
    public void SameSeedGivesIdenticalWeights()
    {
        Init.ManualSeed(42);
        using var a = new AttentionBlock(8, 2, 4);
        using var l1 = new Linear(3, 5);
        Init.ManualSeed(42);
        using var b = new AttentionBlock(8, 2, 4);
        using var l2 = new Linear(3, 5);
        foreach (var (name, t) in a.StateDict()) Assert.That(b.StateDict()[name].ToArray(), Is.EqualTo(t.ToArray()), name);
        Assert.That(l2.Weight.ToArray(), Is.EqualTo(l1.Weight.ToArray()));

        using var c = new Linear(3, 5, gen: new Generator(9));
        using var d = new Linear(3, 5, gen: new Generator(9));
        using var e = new Linear(3, 5, gen: new Generator(10));
        Assert.That(d.Weight.ToArray(), Is.EqualTo(c.Weight.ToArray()));
        Assert.That(d.Bias!.ToArray(), Is.EqualTo(c.Bias!.ToArray()));
        Assert.That(e.Weight.ToArray(), Is.Not.EqualTo(c.Weight.ToArray()));
        Assert.That(a.Q.Weight.ToArray(), Is.Not.EqualTo(a.K.Weight.ToArray()), "each layer draws fresh values");
    }

    [Test]
    public void LinearDefaultsMatchPyTorchBounds()
    {
        using var m = new Linear(50, 400, gen: new Generator(3));
        double bound = 1 / Math.Sqrt(50);
        var w = m.Weight.ToArray();
        var b = m.Bias!.ToArray();
        Assert.That(w.Concat(b).All(v => Math.Abs(v) <= bound * (1 + 1e-6)));
        // U(−b, b) has variance b²/3; 20000 samples pin it to a few percent.
        double var = w.Select(v => (double)v * v).Average();
        Assert.That(var, Is.EqualTo(bound * bound / 3).Within(5).Percent);
    }

    [Test]
    public void Conv2dDefaultsUseTheKernelFanIn()
    {
        using var m = new Conv2d(8, 32, 3, gen: new Generator(4));
        double bound = 1 / Math.Sqrt(3 * 3 * 8);
        var w = m.Weight.ToArray();
        Assert.That(w.Concat(m.Bias!.ToArray()).All(v => Math.Abs(v) <= bound * (1 + 1e-6)));
        Assert.That(w.Select(v => (double)v * v).Average(), Is.EqualTo(bound * bound / 3).Within(8).Percent);
    }

    [Test]
    public void FansFollowTheChannelsLastLayout()
    {
        Assert.That(Init.Fans([8, 3]), Is.EqualTo((3L, 8L)));
        Assert.That(Init.Fans([16, 3, 5, 4]), Is.EqualTo((60L, 240L)), "conv [Cout, KH, KW, Cin]");
        Assert.Throws<ArgumentException>(() => Init.Fans([4]));
    }

    [Test]
    public void Gains()
    {
        Assert.That(Init.Gain(Nonlinearity.Linear), Is.EqualTo(1f));
        Assert.That(Init.Gain(Nonlinearity.Relu), Is.EqualTo(MathF.Sqrt(2)));
        Assert.That(Init.Gain(Nonlinearity.LeakyRelu, MathF.Sqrt(5)), Is.EqualTo(MathF.Sqrt(1f / 3)).Within(1e-7));
        Assert.That(Init.Gain(Nonlinearity.Tanh), Is.EqualTo(5f / 3));
        // SiLU's gain satisfies gain²·E[silu(z)²] = 1 for z ~ N(0, 1) (midpoint rule over ±12σ).
        double e2 = 0, h = 1e-3;
        for (double z = -12 + h / 2; z < 12; z += h)
        {
            double s = z / (1 + Math.Exp(-z));
            e2 += s * s * Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI) * h;
        }
        Assert.That(Init.Gain(Nonlinearity.Silu) * Init.Gain(Nonlinearity.Silu) * e2, Is.EqualTo(1).Within(1e-6));
    }

    [TestCase(FanMode.FanIn)]
    [TestCase(FanMode.FanOut)]
    public void KaimingAndXavierHaveTheirVariance(FanMode mode)
    {
        using var scope = Tensor.Scope();
        var w = Tensor.Empty([64, 3, 3, 32]);
        var gen = new Generator(5);
        double fan = mode == FanMode.FanIn ? 3 * 3 * 32 : 64 * 3 * 3;
        Init.KaimingNormal(w, Nonlinearity.Relu, mode: mode, gen: gen);
        Assert.That(Variance(w), Is.EqualTo(2 / fan).Within(3).Percent);
        Init.KaimingUniform(w, Nonlinearity.Silu, mode: mode, gen: gen);
        double gain = Init.Gain(Nonlinearity.Silu);
        Assert.That(w.ToArray().Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(gain * Math.Sqrt(3 / fan) * (1 + 1e-6)));
        Assert.That(Variance(w), Is.EqualTo(gain * gain / fan).Within(3).Percent);
        Init.XavierUniform(w, 2f, gen);
        Assert.That(Variance(w), Is.EqualTo(4 * 2.0 / (288 + 576)).Within(3).Percent);
        Init.XavierNormal(w, 1f, gen);
        Assert.That(Variance(w), Is.EqualTo(2.0 / (288 + 576)).Within(3).Percent);
    }

    [Test]
    public void Constants()
    {
        using var scope = Tensor.Scope();
        var t = Tensor.Empty([3, 2]);
        Init.Ones(t);
        Assert.That(t.ToArray(), Is.All.EqualTo(1f));
        Init.Zeros(t);
        Assert.That(t.ToArray(), Is.All.EqualTo(0f));
        Init.Constant(t, -2.5f);
        Assert.That(t.ToArray(), Is.All.EqualTo(-2.5f));
    }

    private static double Variance(Tensor t) => t.ToArray().Select(v => (double)v * v).Average();
}
