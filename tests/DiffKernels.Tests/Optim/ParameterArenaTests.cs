using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Tensors;
using DiffKernels.Tests.Gpu;

namespace DiffKernels.Tests.Optim;

/// <summary>
/// The parameter arena: parameters keep their values and identity in slices of one buffer, the first gradient of a
/// backward pass lands in the parameter's slot (and ZeroGrad still drops it), unsuitable parameters are refused,
/// either side may be released first, and the one-call gradient norm equals the per-tensor one bit for bit on the CPU.
/// </summary>
public class ParameterArenaTests
{
    /// <summary>Parameters of awkward sizes: a scalar, one below and several across the slot alignment, none a multiple of 8.</summary>
    internal static Tensor[] Parameters(int seed, Device? device = null)
    {
        int[][] shapes = [[], [3], [7, 11], [129], [2, 3, 5]];
        var r = new System.Random(seed);
        return shapes.Select(s =>
        {
            var shape = new Shape(s);
            var v = Enumerable.Range(0, (int)shape.Numel).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            return Parameter.From(Tensor.FromSpan(v, shape, device));
        }).ToArray();
    }

    /// <summary>Accumulates <paramref name="grad"/> into <paramref name="p"/>'s gradient through a backward pass (∂Σ p·g/∂p = g exactly).</summary>
    internal static void Backward(Tensor p, float[] grad)
    {
        using var scope = Tensor.Scope();
        F.Sum(F.Mul(p, Tensor.FromSpan(grad, p.Shape, p.Device))).Backward();
    }

    internal static float[] Values(int n, int seed, double scale = 1)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((r.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Test]
    public void ParametersKeepTheirValuesAndTheirGradientsLandInSlots()
    {
        var ps = Parameters(1);
        var before = ps.Select(p => p.ToArray()).ToArray();
        using var arena = ParameterArena.TryCreate(ps)!;
        Assert.That(arena, Is.Not.Null);
        for (int i = 0; i < ps.Length; i++)
        {
            Assert.That(ps[i].ToArray(), Is.EqualTo(before[i]), $"values of parameter {i}");
            Assert.That(ps[i].Storage.Parent, Is.Not.Null, "storage is a slice of the arena");
            Assert.That(arena.Offset(i) % ParameterArena.Alignment, Is.Zero);
        }
        Assert.That(arena.Length, Is.EqualTo(7 * ParameterArena.Alignment + 30), "slots at 0, 64, 128, 256 and 448");
        Assert.That(arena.HoldsAllGradients, Is.False);

        var g1 = ps.Select((p, i) => Values((int)p.Numel, 10 + i)).ToArray();
        var g2 = ps.Select((p, i) => Values((int)p.Numel, 20 + i)).ToArray();
        for (int i = 0; i < ps.Length; i++) Backward(ps[i], g1[i]);
        Assert.That(arena.HoldsAllGradients, Is.True);
        for (int i = 0; i < ps.Length; i++) Backward(ps[i], g2[i]);
        for (int i = 0; i < ps.Length; i++)
            Assert.That(ps[i].Grad!.ToArray(), Is.EqualTo(g1[i].Zip(g2[i], (a, b) => a + b)), "a second backward pass adds in place");

        foreach (var p in ps) p.ZeroGrad();
        Assert.That(ps.Select(p => p.Grad), Is.All.Null, "no gradient after ZeroGrad, as without an arena");
        Backward(ps[2], g2[2]);
        Assert.That(ps[2].Grad!.ToArray(), Is.EqualTo(g2[2]), "the slot is overwritten, not added to");
        Assert.That(arena.HoldsAllGradients, Is.False, "one gradient is not all of them");
        foreach (var p in ps) p.Dispose();
    }

    [Test]
    public void UnsuitableParametersGetNoArena()
    {
        var ps = Parameters(2);
        using (var view = ps[1].Detach())
            Assert.That(ParameterArena.Unsuitable(ps), Does.Contain("parameter 1 shares its storage"));
        Assert.That(ParameterArena.Unsuitable([ps[0], ps[0]]), Does.Contain("listed twice"));
        Assert.That(ParameterArena.Unsuitable([]), Is.EqualTo("no parameters"));
        var elsewhere = Parameter.From(Tensor.Zeros([4], Emulator.Backend.Device));
        Assert.That(ParameterArena.Unsuitable([ps[0], elsewhere]), Does.Contain("parameter 1 is on cpu-emulator"));
        using (var arena = ParameterArena.TryCreate(ps)!)
        {
            Assert.That(ParameterArena.TryCreate([ps[3]]), Is.Null);
            Assert.That(ParameterArena.Unsuitable([ps[3]]), Does.Contain("belongs to another arena"));
        }
        using (var again = ParameterArena.TryCreate(ps))
            Assert.That(again, Is.Not.Null, "a disposed arena lets its parameters go");
        foreach (var p in ps.Append(elsewhere)) p.Dispose();
    }

    [Test]
    public void EitherTheArenaOrItsParametersMayBeReleasedFirst()
    {
        var ps = Parameters(3);
        var arena = ParameterArena.TryCreate(ps)!;
        var root = ps[0].Storage.Parent!;
        for (int i = 0; i < ps.Length; i++) Backward(ps[i], Values((int)ps[i].Numel, i));
        var values = ps.Select(p => p.ToArray()).ToArray();
        var grads = ps.Select(p => p.Grad!.ToArray()).ToArray();
        arena.Dispose();
        Assert.That(root.IsReleased, Is.False, "the parameters hold the values");
        Assert.That(ps.Select(p => p.ToArray()), Is.EqualTo(values));
        Assert.That(ps.Select(p => p.Grad!.ToArray()), Is.EqualTo(grads), "current gradients stay valid");
        foreach (var p in ps) p.ZeroGrad();
        Backward(ps[1], [1f, 2f, 3f]);
        Assert.That(ps[1].Grad!.Storage.Parent, Is.Null, "after the arena, a gradient is a tensor of its own");
        foreach (var p in ps) p.Dispose();
        Assert.That(root.IsReleased, Is.True, "nothing leaks");

        var qs = Parameters(4);
        var second = ParameterArena.TryCreate(qs)!;
        var secondRoot = qs[0].Storage.Parent!;
        foreach (var q in qs) q.Dispose();
        Assert.That(secondRoot.IsReleased, Is.False, "the arena holds its buffer");
        second.Dispose();
        Assert.That(secondRoot.IsReleased, Is.True);
    }

    [Test]
    public void TheOneCallNormEqualsThePerTensorNormBitForBit()
    {
        var ps = Parameters(5);
        using var arena = ParameterArena.TryCreate(ps)!;
        for (int i = 0; i < ps.Length; i++) Backward(ps[i], Values((int)ps[i].Numel, 40 + i, scale: Math.Pow(10, i - 2)));
        float norm = arena.GradientNorm();
        Assert.That(BitConverter.SingleToInt32Bits(norm), Is.EqualTo(BitConverter.SingleToInt32Bits(GradClip.GlobalNorm(ps))));
        double exact = Math.Sqrt(ps.Sum(p => p.Grad!.ToArray().Sum(g => (double)g * g)));
        Assert.That(norm, Is.EqualTo(exact).Within(exact * 1e-6));

        ps[3].ZeroGrad();
        Assert.Throws<InvalidOperationException>(() => arena.GradientNorm(), "a missing gradient is not part of the buffer's norm");
        Backward(ps[3], [.. Enumerable.Repeat(1f, 128), float.NaN]);
        Assert.That(float.IsNaN(arena.GradientNorm()));
        foreach (var p in ps) p.Dispose();
    }

    [Test]
    public void MissingGradientsCanBeZeroedInTheirSlots()
    {
        var ps = Parameters(6);
        using var arena = ParameterArena.TryCreate(ps)!;
        Backward(ps[2], Values(77, 1));
        var kept = ps[2].Grad;
        arena.ZeroMissingGradients();
        Assert.That(arena.HoldsAllGradients, Is.True);
        Assert.That(ps[2].Grad, Is.SameAs(kept), "an existing gradient is left alone");
        Assert.That(ps[4].Grad!.ToArray(), Is.All.Zero);
        using var all = arena.GradientView();
        Assert.That(all.Numel, Is.EqualTo(arena.Length));
        Assert.That(all.ToArray().Skip((int)arena.Offset(2)).Take(77), Is.EqualTo(kept!.ToArray()));
        foreach (var p in ps) p.Dispose();
    }
}
