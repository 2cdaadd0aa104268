using DiffKernels.Backends;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Optim.ParameterArenaTests;

namespace DiffKernels.Tests.Optim;

/// <summary>
/// Adam/AdamW in one pass over the parameter arena, with the clipping scale and the EMA inside that pass, against the
/// per-tensor path (gradients scaled in place, one AdamStep per parameter, one Lerp per shadow) on the CPU: the same
/// parameters, moments, shadows and state dicts bit for bit over several steps, through a step with a missing gradient
/// (both fall back) and across a resume from a state dict.
/// </summary>
public class OnePassStepTests
{
    private sealed class Net : Module
    {
        public Net(int seed)
        {
            var ps = ParameterArenaTests.Parameters(seed);
            for (int i = 0; i < ps.Length; i++) RegisterParameter($"p{i}", ps[i]);
        }
    }

    /// <summary>The arena side and the per-tensor side of one comparison, from the same initial values.</summary>
    private sealed class Sides : IDisposable
    {
        private readonly Tensor _pin;

        public Sides(bool decoupled, int seed = 1)
        {
            (ArenaNet, PlainNet) = (new Net(seed), new Net(seed));
            // A second holder of a parameter's storage keeps the plain side off the arena (Unsuitable).
            _pin = PlainNet.Parameters().First().Detach();
            ArenaAdam = Make(ArenaNet, decoupled);
            PlainAdam = Make(PlainNet, decoupled);
            (ArenaEma, PlainEma) = (new Ema(ArenaNet), new Ema(PlainNet));
        }

        public Net ArenaNet { get; }

        public Net PlainNet { get; }

        public Adam ArenaAdam { get; }

        public Adam PlainAdam { get; }

        public Ema ArenaEma { get; }

        public Ema PlainEma { get; }

        public void Dispose()
        {
            _pin.Dispose();
            foreach (var d in new IDisposable[] { ArenaAdam, PlainAdam, ArenaEma, PlainEma, ArenaNet, PlainNet }) d.Dispose();
        }
    }

    internal static Adam Make(Module net, bool decoupled) => decoupled
        ? new AdamW(net.Parameters(), lr: 0.01f, beta1: 0.9f, beta2: 0.99f, eps: 1e-8f, weightDecay: 0.1f)
        : new Adam(net.Parameters(), lr: 0.01f, beta1: 0.9f, beta2: 0.99f, eps: 1e-8f, weightDecay: 0.05f);

    /// <summary>Step <paramref name="step"/>'s gradients into both nets (through backward passes), parameter <paramref name="skip"/> left without one.</summary>
    private static void Gradients(Sides s, int step, int skip = -1)
    {
        var a = s.ArenaNet.Parameters().ToArray();
        var b = s.PlainNet.Parameters().ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            if (i == skip) continue;
            // Varied magnitudes, tiny ones at step 2 where eps matters.
            var g = Values((int)a[i].Numel, 100 * step + i, step == 2 ? 1e-6 : 0.5);
            Backward(a[i], g);
            Backward(b[i], g);
        }
    }

    /// <summary>The per-tensor path of one update: scale (as GradClip does), step, then the EMA.</summary>
    private static void PlainStep(Sides s, float scale, float? beta)
    {
        if (scale != 1f)
            foreach (var g in s.PlainNet.Parameters().Select(p => p.Grad).OfType<Tensor>())
                g.Backend.Unary(UnaryOp.MulScalar, g.Storage, g.Storage, g.Numel, scale, 0f);
        s.PlainAdam.Step();
        if (beta is { } b) s.PlainEma.Update(b);
    }

    private static void AssertSame(Sides s, string when)
    {
        AssertBits(s.ArenaNet.StateDict(), s.PlainNet.StateDict(), $"{when}: parameters");
        AssertBits(s.ArenaEma.Shadow, s.PlainEma.Shadow, $"{when}: EMA");
        using var scope = Tensor.Scope();
        AssertBits(s.ArenaAdam.StateDict(), s.PlainAdam.StateDict(), $"{when}: optimiser state");
    }

    internal static void AssertBits(IReadOnlyDictionary<string, Tensor> actual, IReadOnlyDictionary<string, Tensor> expected, string what)
    {
        Assert.That(actual.Keys, Is.EqualTo(expected.Keys), what);
        foreach (var (k, t) in expected)
            Assert.That(actual[k].ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(t.ToArray().Select(BitConverter.SingleToInt32Bits)), $"{what}: {k}");
    }

    private static void ZeroGrads(Sides s)
    {
        s.ArenaAdam.ZeroGrad();
        s.PlainAdam.ZeroGrad();
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OnePassWithClipAndEmaMatchesThePerTensorPathBitForBit(bool decoupled)
    {
        using var s = new Sides(decoupled);
        Assert.That(s.ArenaAdam.Arena, Is.Not.Null);
        Assert.That(s.PlainAdam.Arena, Is.Null);
        Assert.That(s.ArenaEma.TryFollow(s.ArenaAdam.Arena!), Is.True);
        float[] scales = [1f, 0.37f, 1f, 0.8f, 0.05f];
        float[] betas = [0.9f, 0.5f, 0.999f, 0f, 1f];
        for (int step = 0; step < scales.Length; step++)
        {
            s.ArenaAdam.Lr = s.PlainAdam.Lr = 0.01f * (step + 1);
            Gradients(s, step);
            Assert.That(s.ArenaAdam.CanStepInOnePass, Is.True, $"step {step}");
            s.ArenaAdam.StepInOnePass(scales[step], s.ArenaEma, betas[step]);
            PlainStep(s, scales[step], betas[step]);
            ZeroGrads(s);
            AssertSame(s, $"step {step}");
        }
        Assert.That(s.ArenaAdam.StepCount(0), Is.EqualTo(scales.Length));
    }

    [Test]
    public void StepAndEmaUpdateTakeTheArenaOnTheirOwnToo()
    {
        using var s = new Sides(decoupled: false);
        s.ArenaEma.TryFollow(s.ArenaAdam.Arena!);
        for (int step = 0; step < 3; step++)
        {
            Gradients(s, step);
            s.ArenaAdam.Step();
            s.ArenaEma.Update(0.7f);
            PlainStep(s, 1f, 0.7f);
            ZeroGrads(s);
            AssertSame(s, $"step {step}");
        }
    }

    [Test]
    public void AParameterWithoutAGradientFallsBackToThePerTensorPath()
    {
        using var s = new Sides(decoupled: true);
        Assert.That(s.ArenaEma.TryFollow(s.ArenaAdam.Arena!), Is.True);
        Gradients(s, 0);
        s.ArenaAdam.StepInOnePass(1f, s.ArenaEma, 0.9f);
        PlainStep(s, 1f, 0.9f);
        ZeroGrads(s);

        Gradients(s, 1, skip: 3);
        Assert.That(s.ArenaAdam.CanStepInOnePass, Is.False, "a gradient is missing");
        Assert.Throws<InvalidOperationException>(() => s.ArenaAdam.StepInOnePass());
        s.ArenaAdam.Step();
        s.ArenaEma.Update(0.9f);
        PlainStep(s, 1f, 0.9f);
        ZeroGrads(s);
        AssertSame(s, "after the step without parameter 3's gradient");
        Assert.That((s.ArenaAdam.StepCount(3), s.ArenaAdam.StepCount(2)), Is.EqualTo((1, 2)));

        Gradients(s, 2);
        Assert.That(s.ArenaAdam.CanStepInOnePass, Is.False, "the step counts differ");
        s.ArenaAdam.Step();
        PlainStep(s, 1f, null);
        ZeroGrads(s);
        AssertSame(s, "with step counts apart");
    }

    [Test]
    public void AResumeFromAStateDictContinuesInOnePassBitExactly()
    {
        using var s = new Sides(decoupled: true);
        for (int step = 0; step < 3; step++)
        {
            Gradients(s, step);
            s.ArenaAdam.Step();
            PlainStep(s, 1f, null);
            ZeroGrads(s);
        }
        // A fresh net and optimiser (an arena of their own) loaded from the arena side's state, as a resumed run is.
        using var net = new Net(9);
        net.LoadStateDict(s.ArenaNet.StateDict());
        using var resumed = Make(net, decoupled: true);
        using (Tensor.Scope())
            resumed.LoadStateDict(s.ArenaAdam.StateDict());
        Assert.That(resumed.Arena, Is.Not.Null);
        var ps = net.Parameters().ToArray();
        var plain = s.PlainNet.Parameters().ToArray();
        for (int step = 3; step < 6; step++)
        {
            for (int i = 0; i < ps.Length; i++)
            {
                var g = Values((int)ps[i].Numel, 100 * step + i, 0.5);
                Backward(ps[i], g);
                Backward(plain[i], g);
            }
            Assert.That(resumed.CanStepInOnePass, Is.True);
            resumed.Step();
            s.PlainAdam.Step();
            resumed.ZeroGrad();
            s.PlainAdam.ZeroGrad();
        }
        AssertBits(net.StateDict(), s.PlainNet.StateDict(), "parameters");
        using var scope = Tensor.Scope();
        var state = resumed.StateDict();
        Assert.That(state.Keys, Is.EqualTo(s.PlainAdam.StateDict().Keys), "the checkpoint keys are unchanged");
        AssertBits(state, s.PlainAdam.StateDict(), "optimiser state");
    }

    [Test]
    public void AnEmaOfOtherParametersDoesNotFollowTheArena()
    {
        using var s = new Sides(decoupled: false);
        using var other = new Net(3);
        using var otherEma = new Ema(other);
        Assert.That(otherEma.TryFollow(s.ArenaAdam.Arena!), Is.False);
        Gradients(s, 0);
        Assert.Throws<ArgumentException>(() => s.ArenaAdam.StepInOnePass(1f, otherEma, 0.5f));
    }
}
