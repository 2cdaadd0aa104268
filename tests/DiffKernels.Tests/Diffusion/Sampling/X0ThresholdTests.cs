using DiffKernels.Diffusion.Sampling;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>The spellings of x0 thresholding and the bounded clip for data outside [−1, 1].</summary>
public class X0ThresholdTests
{
    [TestCase("clip:2", -2f, "clip:2")]
    [TestCase("clip:1.8", -1.8f, "clip:1.8")]
    [TestCase("clip:1", 0f, "clip")]
    [TestCase("clip", 0f, "clip")]
    [TestCase("dynamic", 0.995f, "dynamic:0.995")]
    public void SpellingsRoundTrip(string text, float value, string spelled)
    {
        Assert.That(X0Threshold.Parse(text), Is.EqualTo(value));
        Assert.That(X0Threshold.Format(value), Is.EqualTo(spelled));
        Assert.That(X0Threshold.Parse(X0Threshold.Format(value)), Is.EqualTo(value));
    }

    [TestCase("clip:0")]
    [TestCase("clip:-2")]
    [TestCase("clip:x")]
    [TestCase("clip:inf")]
    public void ABoundMustBePositiveAndFinite(string text) =>
        Assert.That(() => X0Threshold.Parse(text), Throws.ArgumentException.With.Message.Contains($"'{text}'").And.Message.Contains("clip:B"));

    [Test]
    public void OptionsAcceptBoundsAndQuantilesAndNothingElse()
    {
        foreach (float? ok in new float?[] { null, 0f, 0.995f, 1f, -2f })
            Assert.That(() => new DiffKernels.Diffusion.Distillation.Ddil.DdilOptions { Threshold = ok }.Validate(), Throws.Nothing, $"{ok}");
        foreach (float bad in new[] { 1.5f, float.NegativeInfinity, float.NaN })
            Assert.That(() => X0Threshold.Validate(bad, "pd"), Throws.ArgumentException.With.Message.StartsWith("pd: x0 threshold"), $"{bad}");
    }

    [Test]
    public void ABoundedClipKeepsTheRangeAndWhatLiesInsideIt()
    {
        float[] values = [-3f, -1.5f, -0.25f, 0f, 0.7f, 1.79f, 2.5f, 9f];
        var x0 = Tensor.FromSpan(values, [4, 2]);
        var y = X0Threshold.Apply(x0, X0Threshold.Parse("clip:1.8")).ToArray();
        float[] expected = [-1.8f, -1.5f, -0.25f, 0f, 0.7f, 1.79f, 1.8f, 1.8f];
        for (int i = 0; i < values.Length; i++) Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-6f), $"value {values[i]}");
        Assert.That(X0Threshold.Apply(x0, null), Is.SameAs(x0));
        Assert.That(X0Threshold.Apply(x0, 0f).ToArray(), Is.EqualTo(F.ThresholdX0(x0, 0f).ToArray()), "the unit clip is the device op itself");
    }
}
