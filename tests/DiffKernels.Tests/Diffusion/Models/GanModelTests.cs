using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

public class GanModelTests
{
    private static Tensor Labels(params float[] ids) => Tensor.FromSpan(ids, [ids.Length]);

    [Test]
    public void GeneratorAndDiscriminatorShapes()
    {
        using var scope = Tensor.Scope();
        using var g = new GanGenerator(TinyModels.Gan(3), new Generator(1));
        using var d = new GanDiscriminator(TinyModels.Gan(3), new Generator(2));
        var z = new Generator(3).Normal([5, 8]);
        var x = g.Generate(z, Labels(0, 1, 2, 0, 1));
        Assert.That(x.Shape, Is.EqualTo(new Shape(5, 8, 8, 1)));
        Assert.That(g.LatentShape, Is.EqualTo(new Shape(8)));
        Assert.That(g.SampleShape, Is.EqualTo(new Shape(8, 8, 1)));
        Assert.That(x.ToArray().All(v => v > -1 && v < 1), "tanh output");
        Assert.That(d.Forward(x, Labels(0, 1, 2, 0, 1)).Shape, Is.EqualTo(new Shape(5)));
    }

    [Test]
    public void TheFashionMnistPairHasItsDocumentedShapeAndSize()
    {
        using var scope = Tensor.Scope();
        using var g = new GanGenerator(GanConfig.FashionMnist(), new Generator(1));
        using var d = new GanDiscriminator(GanConfig.FashionMnist(), new Generator(2));
        // fc 64→2048 (+ bias) and 10→2048 labels, GroupNorm, 128→64 and 64→32 3×3 convs with norms, 32→1 out conv.
        long generator = 64 * 2048 + 2048 + 10 * 2048 + 2 * 128 + (9 * 128 * 64 + 64 + 2 * 64) + (9 * 64 * 32 + 32 + 2 * 32) + (9 * 32 + 1);
        // 1→32, 32→64, 64→128 3×3 convs, fc 2048→128, out 128→1, label projection 10→128.
        long discriminator = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (9 * 64 * 128 + 128) + (2048 * 128 + 128) + (128 + 1) + 10 * 128;
        Assert.That(g.ParameterCount, Is.EqualTo(generator));
        Assert.That(d.ParameterCount, Is.EqualTo(discriminator));
        var x = g.Generate(new Generator(3).Normal([2, 64]), Labels(4, 7));
        Assert.That(x.Shape, Is.EqualTo(new Shape(2, 32, 32, 1)));
    }

    [Test]
    public void LabelsSteerTheGeneratorAndTheDiscriminatorScoresEachImageOnItsOwn()
    {
        using var scope = Tensor.Scope();
        using var g = new GanGenerator(TinyModels.Gan(2), new Generator(1));
        using var d = new GanDiscriminator(TinyModels.Gan(2), new Generator(2));
        var z = new Generator(3).Normal([1, 8]);
        Assert.That(g.Generate(z, Labels(0)).ToArray(), Is.Not.EqualTo(g.Generate(z, Labels(1)).ToArray()));
        var x = g.Generate(new Generator(4).Normal([3, 8]), Labels(0, 1, 1));
        var all = d.Forward(x, Labels(0, 1, 1)).ToArray();
        var second = d.Forward(F.Narrow(x, 0, 1, 1), Labels(1)).ToArray();
        Assert.That(second[0], Is.EqualTo(all[1]).Within(1e-5f), "no normalisation across the batch");
        Assert.That(d.Forward(F.Narrow(x, 0, 1, 1), Labels(0)).ToArray()[0], Is.Not.EqualTo(all[1]), "the class projection enters the logit");
    }

    [Test]
    public void WrongInputsAreRejectedWithMessagesNamingTheNetwork()
    {
        using var scope = Tensor.Scope();
        using var conditional = new GanGenerator(TinyModels.Gan(2), new Generator(1));
        using var unconditional = new GanGenerator(TinyModels.Gan(), new Generator(1));
        using var d = new GanDiscriminator(TinyModels.Gan(), new Generator(2));
        var z = new Generator(3).Normal([2, 8]);
        Assert.That(() => conditional.Generate(z, null), Throws.ArgumentException.With.Message.StartsWith("GanGenerator: a conditional network"));
        Assert.That(() => unconditional.Generate(z, Labels(0, 1)), Throws.ArgumentException.With.Message.StartsWith("GanGenerator: labels"));
        Assert.That(() => conditional.Generate(z, Labels(0)), Throws.ArgumentException.With.Message.Contains("labels must be [2]"));
        Assert.That(() => unconditional.Generate(new Generator(3).Normal([2, 7]), null), Throws.ArgumentException.With.Message.Contains("z must be [N, 8]"));
        Assert.That(() => d.Forward(new Generator(3).Normal([2, 4, 4, 1]), null), Throws.ArgumentException.With.Message.StartsWith("GanDiscriminator: x must be [N, 8, 8, 1]"));
    }

    [Test]
    public void ConfigRoundTripsThroughJsonAndRejectsInconsistentShapes()
    {
        var c = GanConfig.FashionMnist();
        Assert.That(GanConfig.FromJson(c.ToJson()), Is.EqualTo(c));
        Assert.That(() => (c with { ImageSize = 30 }).Validate(), Throws.ArgumentException.With.Message.Contains("image size 30"));
        Assert.That(() => (c with { GeneratorWidths = [128, 60, 32] }).Validate(), Throws.ArgumentException.With.Message.Contains("groups must divide"));
        Assert.That(() => (c with { NumClasses = 1 }).Validate(), Throws.ArgumentException.With.Message.Contains("classes 1"));
        Assert.That(() => GanConfig.FromJson("{"), Throws.ArgumentException.With.Message.StartsWith("GanConfig: malformed JSON"));
    }

    [Test]
    public void ASavedGeneratorLoadsAsItselfAndSamplesInOneEvaluationWhateverTheBatch()
    {
        using var dir = new TempDir();
        using var scope = Tensor.Scope();
        string path = dir.File("g.safetensors");
        using var g = new GanGenerator(TinyModels.Gan(2), new Generator(5));
        ModelFactory.Save(path, g, extraMetadata: g.SamplingMetadata);
        var expected = GeneratorSampler.Generate(g, 7, seed: 11, batchSize: 7);
        using var loaded = ModelFactory.Load(path);
        Assert.That(loaded.Kind, Is.EqualTo(GanConfig.GeneratorKind));
        var wrapped = GeneratorCheckpoint.Wrap(loaded.Model, loaded.Metadata);
        Assert.That(wrapped, Is.SameAs(loaded.Model));
        var again = GeneratorSampler.Generate(wrapped, 7, seed: 11, batchSize: 3);
        Assert.That(again.Nfe, Is.EqualTo(1));
        Assert.That(again.Samples.ToArray(), Is.EqualTo(expected.Samples.ToArray()));
        Assert.That(SamplerOptions.ParseKind(loaded.Metadata[SamplerOptions.KindKey]), Is.EqualTo(SamplerKind.Generator));
    }

    [Test]
    public void TheDiffusionSamplerRefusesTheGeneratorKind()
    {
        using var net = new Mlp(new MlpConfig(Hidden: 8), new Generator(1));
        Assert.That(() => DiffusionSampler.Generate(net, new Edm(), 4, new SamplerOptions(SamplerKind.Generator, 1)),
            Throws.ArgumentException.With.Message.Contains("generator sampler draws from generator networks"));
    }
}
