using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>A draw made a part at a time (what dk sample and dk eval stream) has exactly the values of one draw.</summary>
public class SamplePartTests
{
    private static string Committed(string file) => Path.Combine(RepoFiles.ModelsDir(), file);

    // An odd part size is rounded to keep every part's noise aligned in the Philox stream (2D points: 2 samples per 4 values).
    [TestCase("toy-8gaussians-teacher.safetensors", 7)]
    [TestCase("toy-8gaussians-dmd2-k4.safetensors", 5)]
    [TestCase("toy-8gaussians-diff-instruct.safetensors", 16)]
    [TestCase("toy-8gaussians-boot.safetensors", 9)]
    [TestCase("fmnist-gan.safetensors", 3)]
    public void PartsHaveTheValuesOfOneDraw(string file, int partSize)
    {
        using var model = PretrainedModel.Load(Committed(file));
        var options = model.DefaultOptions with { BatchSize = 4, Steps = model.IsGenerator ? 1 : Math.Min(model.DefaultOptions.Steps, 4), Sigmas = model.DefaultOptions.Steps <= 4 ? model.DefaultOptions.Sigmas : null };
        const int N = 23;
        using var scope = Tensor.Scope();
        var whole = model.Sample(N, seed: 5, options: options).Samples.ToArray();
        var parts = new float[whole.Length];
        var starts = new List<long>();
        model.SampleInParts(N, 5, null, options, partSize, (part, first) =>
        {
            starts.Add(first);
            var values = part.Samples.ToArray();
            values.CopyTo(parts, first * (whole.Length / N));
        });
        Assert.That(starts, Has.Count.GreaterThan(1), "drawn in several parts");
        Assert.That(parts, Is.EqualTo(whole));
    }

    [Test]
    public void BalancedLabelsCountOverTheWholeDraw()
    {
        using var dir = new TempDir();
        string path = dir.File("conditional.safetensors");
        using (var net = new UNet(TinyModels.TinyUNet, new Generator(2)))
            ModelFactory.Save(path, net);
        using var model = PretrainedModel.Load(path);
        var options = model.DefaultOptions with { Steps = 2, BatchSize = 3 };
        using var scope = Tensor.Scope();
        var whole = model.Sample(7, seed: 1, options: options).Samples.ToArray();
        var parts = new List<float>();
        model.SampleInParts(7, 1, null, options, 2, (part, _) => parts.AddRange(part.Samples.ToArray()));
        Assert.That(parts, Is.EqualTo(whole));
    }

    [Test]
    public void BalancedLabelsOverAClassRangeCountOverTheWholeDrawWithinTheRange()
    {
        using var dir = new TempDir();
        string path = dir.File("conditional.safetensors");
        using (var net = new UNet(TinyModels.TinyUNet, new Generator(2)))
        {
            TinyModels.LabelSensitive(net);
            ModelFactory.Save(path, net);
        }
        using var model = PretrainedModel.Load(path);
        var options = model.DefaultOptions with { Steps = 2, BatchSize = 3 };
        using var scope = Tensor.Scope();
        Assert.That(SamplePart.BalancedLabels(new SamplePart(4, 9), 5, 2, firstClass: 1), Is.EqualTo(new float[] { 1, 2, 1, 2, 1 }));
        var labels = new float[] { 1, 2, 1, 2, 1, 2, 1 };
        var asked = model.Sample(7, seed: 1, labels: labels, options: options).Samples.ToArray();
        var parts = new List<float>();
        model.SampleInParts(7, 1, null, options, 2, (part, _) => parts.AddRange(part.Samples.ToArray()), classes: (1, 2));
        Assert.That(parts, Is.EqualTo(asked), "labels 1, 2, 1, … counted over the whole draw");
        Assert.That(parts, Is.Not.EqualTo(model.Sample(7, seed: 1, options: options).Samples.ToArray()), "not the balanced labels over all three classes");

        Assert.That(() => model.SampleInParts(7, 1, null, options, 2, (_, _) => { }, classes: (1, 3)),
            Throws.InstanceOf<InvalidInputException>().With.Message.Contain("3 is not a class of this model"));
        Assert.That(() => model.SampleInParts(7, 1, 0, options, 2, (_, _) => { }, classes: (1, 2)),
            Throws.InstanceOf<InvalidInputException>().With.Message.Contain("exclude each other"));
        using var toy = PretrainedModel.Load(Committed("toy-8gaussians-teacher.safetensors"));
        Assert.That(() => toy.SampleInParts(4, 1, null, null, 2, (_, _) => { }, classes: (0, 1)),
            Throws.InstanceOf<InvalidInputException>().With.Message.Contain("unconditional"));
    }

    [Test]
    public void APartOutsideItsDrawOrOffItsAlignmentIsRefused()
    {
        using var model = PretrainedModel.Load(Committed("toy-8gaussians-teacher.safetensors"));
        using var scope = Tensor.Scope();
        Assert.That(() => model.Sample(4, part: new SamplePart(8, 10)), Throws.InstanceOf<InvalidInputException>().With.Message.Contain("do not lie in a draw of 10"));
        Assert.That(() => model.Sample(2, part: new SamplePart(1, 10)), Throws.InstanceOf<InvalidInputException>().With.Message.Contain("multiple of 2 samples"));
    }
}
