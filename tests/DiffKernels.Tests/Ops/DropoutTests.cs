using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class DropoutTests
{
    private static float[] Uniforms(ulong seed, Shape shape)
    {
        using var _ = Tensor.Scope();
        return new Generator(seed).Uniform(shape).ToArray();
    }

    [TestCase(0.5f, 37)]
    [TestCase(0.2f, 3, 5, 7)]
    [TestCase(0.9f, 2, 1, 3, 1, 4)]
    public void MatchesReferenceMaskAndGradient(float p, params int[] dims)
    {
        var shape = new Shape(dims);
        var u = Uniforms(11, shape);
        double scale = 1 / (1 - (double)p);
        OpCheck.Run($"dropout p={p}", [shape],
            x => F.Dropout(x[0], p, new Generator(11)),
            x => x[0].Select((v, i) => u[i] >= p ? v * scale : 0).ToArray(),
            new OpCheckOptions { OutputShape = shape });
    }

    [Test]
    public void DropsAboutPAndPreservesTheMean()
    {
        using var _ = Tensor.Scope();
        const float p = 0.3f;
        var y = F.Dropout(Tensor.Ones([100_000]), p, new Generator(5)).ToArray();
        double zeros = y.Count(v => v == 0) / (double)y.Length;
        // σ of the dropped fraction ≈ 0.0014; bound ≈ 5σ.
        Assert.That(zeros, Is.EqualTo(p).Within(0.007));
        Assert.That(y.Where(v => v != 0).Distinct(), Is.EqualTo(new[] { 1f / (1f - p) }));
        Assert.That(y.Average(v => (double)v), Is.EqualTo(1).Within(0.01));
    }

    [Test]
    public void SameSeedGivesSameMaskAndAdvancesTheGenerator()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Ones([4, 9]);
        var g = new Generator(3);
        var a = F.Dropout(x, 0.5f, g).ToArray();
        Assert.That(g.Offset, Is.EqualTo(9UL));
        Assert.That(F.Dropout(x, 0.5f, new Generator(3)).ToArray(), Is.EqualTo(a));
        Assert.That(F.Dropout(x, 0.5f, g).ToArray(), Is.Not.EqualTo(a));
    }

    [Test]
    public void IsIdentityInEvalModeOrWithZeroP()
    {
        using var _ = Tensor.Scope();
        var x = Tensor.FromArray([1f, -2f, 3f]);
        var g = new Generator(1);
        Assert.That(F.Dropout(x, 0.5f, g, training: false), Is.SameAs(x));
        Assert.That(F.Dropout(x, 0f, g), Is.SameAs(x));
        Assert.That(g.Offset, Is.EqualTo(0UL), "identity draws nothing");
    }

    [TestCase(-0.1f)]
    [TestCase(1f)]
    [TestCase(float.NaN)]
    public void RejectsPOutsideUnitInterval(float p)
    {
        using var _ = Tensor.Scope();
        var x = Tensor.Ones([2]);
        Assert.That(() => F.Dropout(x, p, new Generator(1)), Throws.ArgumentException.With.Message.Contains("Dropout").And.Message.Contains("[0, 1)"));
        Assert.That(() => F.Dropout(x, p, new Generator(1), training: false), Throws.ArgumentException);
    }
}
