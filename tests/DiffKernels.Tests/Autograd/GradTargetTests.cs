using DiffKernels.Backends;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Gpu;
using DiffKernels.Tests.Optim;

namespace DiffKernels.Tests.Autograd;

/// <summary>
/// Gradients made in their arena slots: the weight and bias gradients of linear, convolution and norm layers are
/// written straight into the slots (no copy in the backward pass), with the values the same layers give without an
/// arena bit for bit; a parameter with two consumers, and a second backward pass, still sum correctly.
/// </summary>
public class GradTargetTests
{
    private sealed class Net : Module
    {
        public readonly Conv2d Conv;
        public readonly GroupNorm Norm;
        public readonly Linear Head;

        public Net(Device device)
        {
            var gen = new Generator(3);
            Conv = RegisterModule("conv", new Conv2d(2, 4, 3, padding: 1, gen: gen, device: device));
            Norm = RegisterModule("norm", new GroupNorm(2, 4, device: device));
            Head = RegisterModule("head", new Linear(4, 3, gen: gen, device: device));
        }

        /// <summary>conv → GroupNorm+SiLU → mean over pixels → linear; with <paramref name="twice"/> the head is applied a second time (its weight then has two consumers).</summary>
        public Tensor Loss(Tensor x, bool twice)
        {
            var h = F.GroupNorm(Conv.Forward(x), 2, Norm.Weight, Norm.Bias, silu: true);
            var y = Head.Forward(F.Mean(h, [1, 2]));
            if (twice) y = F.Add(y, Head.Forward(F.Mul(F.Mean(h, [1, 2]), F.Mean(h, [1, 2]))));
            return F.Sum(F.Mul(y, y));
        }
    }

    private static Dictionary<string, float[]> Gradients(bool arena, bool twice, int passes, out RecordingBackend calls)
    {
        calls = new RecordingBackend(Device.Cpu.Backend);
        var device = new Device("recorded", calls);
        using var net = new Net(device);
        using var holder = arena ? ParameterArena.TryCreate([.. net.Parameters()]) : null;
        if (arena) Assert.That(holder, Is.Not.Null);
        var x = Tensor.FromSpan(ParameterArenaTests.Values(2 * 5 * 5 * 2, 4), new Shape(2, 5, 5, 2), device);
        calls.Calls.Clear();
        for (int i = 0; i < passes; i++)
        {
            using var scope = Tensor.Scope();
            net.Loss(x, twice).Backward();
        }
        if (arena) Assert.That(holder!.HoldsAllGradients, Is.True);
        var grads = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray());
        x.Dispose();
        return grads;
    }

    [Test]
    public void LayerGradientsAreMadeInTheirSlotsWithTheSameBits()
    {
        var plain = Gradients(arena: false, twice: false, passes: 1, out var plainCalls);
        var slotted = Gradients(arena: true, twice: false, passes: 1, out var slottedCalls);
        Assert.That(slotted.Keys, Is.EquivalentTo(plain.Keys));
        Assert.That(slotted.Keys, Has.Count.EqualTo(6), "conv w, b; norm γ, β; head w, b");
        foreach (var (name, g) in plain) Assert.That(slotted[name], Is.EqualTo(g), name);
        int copies(RecordingBackend r) => r.Calls.GetValueOrDefault(nameof(IBackend.CopyStrided));
        Assert.That(copies(plainCalls) - copies(slottedCalls), Is.EqualTo(6),
            "without an arena each parameter's first gradient is copied once; in one, none is");
    }

    [Test]
    public void TwoConsumersAndTwoPassesStillSum()
    {
        var plain = Gradients(arena: false, twice: true, passes: 2, out _);
        var slotted = Gradients(arena: true, twice: true, passes: 2, out _);
        foreach (var (name, g) in plain) Assert.That(slotted[name], Is.EqualTo(g), name);
        var once = Gradients(arena: true, twice: true, passes: 1, out _);
        foreach (var (name, g) in once)
            Assert.That(slotted[name], Is.EqualTo(g.Select(v => v + v)), $"{name}: the second pass adds in place");
    }
}
