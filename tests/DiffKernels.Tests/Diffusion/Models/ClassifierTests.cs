using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Models;

/// <summary>The metric classifier: shapes, checkpoints, training and accuracy.</summary>
public class ClassifierTests
{
    internal static readonly ClassifierConfig Small = new(32, 1, [8, 8], 16, 3);

    /// <summary>
    /// Three separable classes of noisy 32×32 images: a bright horizontal bar, a vertical bar, or a
    /// bright square, each at a random position.
    /// </summary>
    internal static ImageDataset Shapes(int n, int seed)
    {
        var rng = new System.Random(seed);
        var px = new float[n * 1024];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int cls = i % 3, a = rng.Next(4, 24);
            labels[i] = cls;
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                {
                    bool on = cls switch
                    {
                        0 => r >= a && r < a + 4,
                        1 => c >= a && c < a + 4,
                        _ => r >= a && r < a + 8 && c >= 12 && c < 20,
                    };
                    px[i * 1024 + r * 32 + c] = (on ? 0.8f : -0.8f) + 0.3f * (float)(rng.NextDouble() * 2 - 1);
                }
        }
        return new ImageDataset(px, labels, 32, 32, 1, 3);
    }

    [Test]
    public void FeaturesAndLogitsHaveTheConfiguredWidths()
    {
        using var model = new Classifier(ClassifierConfig.FashionMnist(), new Generator(0));
        using var scope = Tensor.Scope();
        var x = new Generator(1).Normal([3, 32, 32, 1]);
        Assert.That(model.Features(x).Shape.ToArray(), Is.EqualTo(new[] { 3, 128 }));
        Assert.That(model.Forward(x).Shape.ToArray(), Is.EqualTo(new[] { 3, 10 }));
        var sd = model.StateDict();
        Assert.That(sd["stages.0.conv1.weight"].Shape.ToArray(), Is.EqualTo(new[] { 16, 3, 3, 1 }));
        Assert.That(sd["stages.2.norm1.weight"].Shape.ToArray(), Is.EqualTo(new[] { 64 }));
        Assert.That(sd["fc.weight"].Shape.ToArray(), Is.EqualTo(new[] { 128, 4 * 4 * 64 }));
        Assert.That(sd["head.weight"].Shape.ToArray(), Is.EqualTo(new[] { 10, 128 }));
        var e = Assert.Throws<ArgumentException>(() => model.Features(Tensor.Zeros([1, 28, 28, 1])));
        Assert.That(e!.Message, Does.Contain("[1, 28, 28, 1]"));
    }

    [Test]
    public void CheckpointsRoundTripWithTheirConfig()
    {
        using var dir = new TempDir();
        var config = Small with { ConvsPerStage = 2 };
        using var model = new Classifier(config, new Generator(2));
        string path = dir.File("clf.safetensors");
        model.Save(path);

        var header = SafeTensors.ReadHeader(path);
        Assert.That(header.Tensors.Single(t => t.Name == "stages.1.conv2.weight").Shape, Is.EqualTo(new long[] { 8, 8, 3, 3 }), "OIHW in the file");
        Assert.That(header.Metadata[ModelFactory.KindKey], Is.EqualTo("classifier"));

        using var loaded = Classifier.Load(path);
        Assert.That(loaded.Config, Is.EqualTo(config));
        using var scope = Tensor.Scope();
        var x = new Generator(3).Normal([2, 32, 32, 1]);
        Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(model.Forward(x).ToArray()));

        using (var unet = new UNet(UNetConfig.XS(), new Generator(0))) ModelFactory.Save(dir.File("unet.safetensors"), unet);
        var e = Assert.Throws<SafeTensorsFormatException>(() => Classifier.Load(dir.File("unet.safetensors")));
        Assert.That(e!.Message, Does.Contain("a release checkpoint of a teacher (unet); the metric classifier needs a checkpoint of a classifier"));
    }

    [Test]
    public void TrainingSeparatesSimpleShapes()
    {
        var train = Shapes(150, 1);
        var test = Shapes(60, 2);
        using var model = new Classifier(Small, new Generator(4));
        double before = ClassifierTraining.Accuracy(model, test);
        var steps = new List<ClassifierStep>();
        var epochs = ClassifierTraining.Train(model, train, test, new ClassifierTrainingOptions { Epochs = 3, BatchSize = 25, Lr = 1e-2f, Seed = 5 },
            steps.Add, reportEvery: 4);
        Assert.That(epochs, Has.Count.EqualTo(3));
        Assert.That(steps.Select(s => s.Step), Is.EqualTo(new long[] { 4, 6, 8, 12, 16, 18 }), "every 4 steps and at each epoch end");
        Assert.That(steps[^1].Loss, Is.LessThan(steps[0].Loss));
        Assert.That(epochs[^1].TestAccuracy, Is.GreaterThanOrEqualTo(0.9), $"accuracy before training {before:P1}");
        Assert.That(ClassifierTraining.Accuracy(model, test), Is.EqualTo(epochs[^1].TestAccuracy));
    }

    [Test]
    public void TrainingIsDeterministicForAGivenSeed()
    {
        double Run()
        {
            using var model = new Classifier(Small, new Generator(6));
            return ClassifierTraining.Train(model, Shapes(40, 3), null, new ClassifierTrainingOptions { Epochs = 1, BatchSize = 20, Seed = 7 })[0].TrainLoss;
        }
        Assert.That(Run(), Is.EqualTo(Run()));
    }

    [Test]
    public void TheCommittedClassifierLoadsAndClassifiesTheTestSet()
    {
        using var clf = Classifier.Load(Path.Combine(RepoFiles.ModelsDir(), "fmnist-classifier.safetensors"));
        Assert.That(clf.Config, Is.EqualTo(ClassifierConfig.FashionMnist()));
        Assume.That(Directory.Exists(FashionMnist.DefaultDirectory), "Fashion-MNIST is not installed here");
        // 91.13% on all 10,000 (models/README.md); the first 1,000 alone leave room for sampling spread.
        double acc = ClassifierTraining.Accuracy(clf, FashionMnist.Load(FashionSplit.Test, limit: 1000));
        Assert.That(acc, Is.GreaterThanOrEqualTo(0.88));
    }

    [Test]
    public void ArgMaxTakesTheFirstLargest()
    {
        Assert.That(ClassifierTraining.ArgMaxRows([0, 2, 1, 5, 5, -1], 3), Is.EqualTo(new[] { 1, 0 }));
    }

    [Test]
    public void HistogramEntropyIsZeroForOneClassAndLogKForUniform()
    {
        var one = ClassHistogram.From([2, 2, 2, 2], 4);
        Assert.That(one.Entropy, Is.EqualTo(0));
        Assert.That(one.Counts, Is.EqualTo(new[] { 0, 0, 4, 0 }));
        var uniform = ClassHistogram.From([0, 1, 2, 3, 3, 2, 1, 0], 4);
        Assert.That(uniform.Entropy, Is.EqualTo(Math.Log(4)).Within(1e-12));
        Assert.That(uniform.NormalisedEntropy, Is.EqualTo(1).Within(1e-12));
        // p = (1/2, 1/4, 1/4): H = 1.5 ln 2.
        var h = ClassHistogram.From([0, 0, 1, 2], 3);
        Assert.That(h.Entropy, Is.EqualTo(1.5 * Math.Log(2)).Within(1e-12));
        Assert.That(h.Total, Is.EqualTo(4));
        Assert.Throws<ArgumentException>(() => ClassHistogram.From([3], 3));
    }
}
