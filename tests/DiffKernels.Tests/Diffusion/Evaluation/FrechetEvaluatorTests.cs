using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>The evaluator end to end on a small fake Fashion-MNIST directory.</summary>
public class FrechetEvaluatorTests
{
    private static readonly ClassifierConfig Tiny = new(32, 1, [8], 8, 10);

    [Test]
    public void ScoresTheTestSetAgainstItselfAtZeroAndCachesItsFeatures()
    {
        using var data = new TempDir();
        using var cache = new TempDir();
        FakeFashion.WriteBrighterByLabel(data.Path, train: 60, test: 40, seed: 1);
        using var clf = new Classifier(Tiny, new Generator(1));
        var eval = new FrechetEvaluator(clf, data.Path, cache.Path);
        var test = FashionMnist.Load(FashionSplit.Test, data.Path);
        using var scope = Tensor.Scope();
        var images = test.Range(0, test.Count).Images;

        var m = eval.Evaluate(images);
        Assert.That(m.Count, Is.EqualTo(40));
        Assert.That(m.Fd, Is.LessThan(1e-6 * eval.TestStatistics.Covariance.Trace()));
        Assert.That(m.Precision, Is.EqualTo(1));
        Assert.That(m.Recall, Is.EqualTo(1));
        Assert.That(m.Classes.Total, Is.EqualTo(40));
        Assert.That(cache.Entries(), Is.EqualTo(new[] { $"fmnist-test-features-{eval.Fingerprint}.safetensors" }));

        // Noise is far from the data; the floor (real training images) is not.
        var noise = new Generator(2).Uniform([40, 32, 32, 1], low: -1, high: 1);
        double fdNoise = eval.Fd(noise);
        double floor = eval.Floor(trainCount: 40);
        Assert.That(floor, Is.GreaterThan(0));
        Assert.That(fdNoise, Is.GreaterThan(3 * floor));

        // A second evaluator with the same weights reads the cache: the test files are no longer needed.
        foreach (var f in Directory.GetFiles(data.Path, "t10k-*")) File.Delete(f);
        var again = new FrechetEvaluator(clf, data.Path, cache.Path);
        Assert.That(again.TestFeatures, Is.EqualTo(eval.TestFeatures));
        // Different weights, different cache entry (and here no test files to compute it from).
        using var other = new Classifier(Tiny, new Generator(3));
        Assert.Throws<FileNotFoundException>(() => _ = new FrechetEvaluator(other, data.Path, cache.Path).TestFeatures);
    }
}
