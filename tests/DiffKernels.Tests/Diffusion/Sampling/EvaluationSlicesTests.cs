using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>Sampling-time network evaluations in slices: the same samples whatever the slice, and no intermediates kept.</summary>
[NonParallelizable]
public class EvaluationSlicesTests
{
    private static T WithSliceImages<T>(int images, int elementsPerImage, Func<T> body)
    {
        int saved = EvaluationSlices.MaxElements;
        EvaluationSlices.MaxElements = images * elementsPerImage;
        try { return body(); }
        finally { EvaluationSlices.MaxElements = saved; }
    }

    [TestCase(1.0)]
    [TestCase(1.5)]
    public void DiffusionSamplesDoNotDependOnTheSlice(double guidance)
    {
        using var scope = Tensor.Scope();
        using var net = new UNet(TinyModels.TinyUNet, new Generator(3));
        net.Eval();
        var options = new SamplerOptions(SamplerKind.Heun, 3, Seed: 5, BatchSize: 10, Guidance: guidance);
        float[] Draw() => DiffusionSampler.Generate(net, new Edm(), 10, options).Samples.ToArray();
        var whole = WithSliceImages(10, 64, Draw);
        var sliced = WithSliceImages(3, 64, Draw);
        Assert.That(sliced, Is.EqualTo(whole));
    }

    [Test]
    public void GeneratorSamplesDoNotDependOnTheSlice()
    {
        using var scope = Tensor.Scope();
        using var g = new GanGenerator(TinyModels.Gan(2), new Generator(5));
        float[] Draw() => GeneratorSampler.Generate(g, 9, seed: 11, batchSize: 9).Samples.ToArray();
        var whole = WithSliceImages(9, 64, Draw);
        var sliced = WithSliceImages(2, 64, Draw);
        Assert.That(sliced, Is.EqualTo(whole));
    }

    [Test]
    public void OnlyTheResultOutlivesTheSlices()
    {
        using var scope = Tensor.Scope();
        var x = new Generator(1).Normal([7, 4]);
        int before = scope.Count;
        var y = WithSliceImages(2, 4, () => EvaluationSlices.Evaluate(x, null, (xs, _) => F.MulScalar(F.Add(xs, xs), 0.5f)));
        Assert.That(y.ToArray(), Is.EqualTo(x.ToArray()));
        Assert.That(scope.Count, Is.EqualTo(before + 1), "the slices' inputs, intermediates and parts are released");
    }
}
