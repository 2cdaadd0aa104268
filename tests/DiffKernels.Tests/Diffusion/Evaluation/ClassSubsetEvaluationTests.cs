using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>An evaluation on a range of classes samples those classes and compares with the real images of those classes only.</summary>
public class ClassSubsetEvaluationTests
{
    // FakeFashion labels image i with i mod 10: 40 images hold four of each class.
    private const int Images = 40;

    [Test]
    public void TheRealSetsOfARangeAreExactlyItsTestAndTrainingImages()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, Images);
        using var clf = Classifier.Load(FakeFashion.TinyClassifier(dir));
        int dim = clf.Config.FeatureDim;
        var whole = new FrechetEvaluator(clf, data);
        var subset = new FrechetEvaluator(clf, data, classes: (5, 9));
        float[] Rows(float[] features, IEnumerable<int> indices) => indices.SelectMany(i => features.Skip(i * dim).Take(dim)).ToArray();

        var inRange = Enumerable.Range(0, Images).Where(i => i % 10 >= 5).ToArray();
        Assert.That(subset.TestFeatures, Is.EqualTo(Rows(whole.TestFeatures, inRange)), "the test images of classes 5-9, in order");
        Assert.That(whole.TestFeatures, Has.Length.EqualTo(Images * dim), "no range: the whole test set");
        Assert.That((subset.TrainingImages(), whole.TrainingImages()), Is.EqualTo((20, Images)));

        // The floor's first six training images of classes 5-9 are images 5-9 and 15.
        var train = whole.Features(FashionMnist.Load(FashionSplit.Train, data));
        var first6 = Rows(train, [5, 6, 7, 8, 9, 15]);
        Assert.That(subset.Floor(6), Is.EqualTo(FrechetDistance.Compute(FeatureStatistics.From(first6, 6, dim), subset.TestStatistics)).Within(1e-4).Percent,
            "the same features, embedded six at a time rather than forty");
        Assert.That(() => subset.Floor(21), Throws.ArgumentException.With.Message.Contain("21 training images of classes 5-9; there are 20"));
        Assert.That(() => new FrechetEvaluator(clf, data, classes: (5, 10)), Throws.ArgumentException.With.Message.Contain("classes 5-10"));
    }

    [Test]
    public void AnEvaluationOfARangeDrawsBalancedLabelsOverItAndScoresThemAgainstIt()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, Images);
        using var clf = Classifier.Load(FakeFashion.TinyClassifier(dir));
        var evaluator = new FrechetEvaluator(clf, data, classes: (5, 9));
        using var model = PretrainedModel.Load(TinyModels.FashionTeacherFile(dir));
        var options = model.DefaultOptions with { BatchSize = 4 };
        using var scope = Tensor.Scope();
        const int N = 12;

        var (report, _) = ImageEvaluation.Evaluate(model, evaluator, N, options);

        var labels = Enumerable.Range(0, N).Select(i => (float)(5 + i % 5)).ToArray();
        var once = evaluator.Evaluate(ImageEvaluation.AsExported(model.Sample(N, options.Seed, labels, options).Samples, model.Crop));
        Assert.That((report.Metrics.Fd, report.Metrics.Precision, report.Metrics.Recall), Is.EqualTo((once.Fd, once.Precision, once.Recall)));
        Assert.That(report.Metrics.Classes.Counts, Is.EqualTo(once.Classes.Counts));
        Assert.That(report.Floor, Is.EqualTo(evaluator.Floor(N)));
        Assert.That(report.Metrics.Classes.Subset, Is.EqualTo((5, 9)));
        Assert.That(report.Metrics.Classes.NormalisedEntropy, Is.EqualTo(report.Metrics.Classes.Entropy / Math.Log(5)).Within(1e-12));
    }

    [Test]
    public void ClassEntropyOfARangeIsNormalisedByItsSizeAndCountsWhatFallsOutside()
    {
        var even = ClassHistogram.From([5, 6, 7, 8, 9, 5, 6, 7, 8, 9], 10, (5, 9));
        Assert.That((even.NormalisedEntropy, even.InSubset), Is.EqualTo((1.0, 1.0)).Within(1e-12));
        var leaking = ClassHistogram.From([5, 5, 0, 0], 10, (5, 9));
        Assert.That(leaking.NormalisedEntropy, Is.EqualTo(Math.Log(2) / Math.Log(5)).Within(1e-12));
        Assert.That(leaking.InSubset, Is.EqualTo(0.5));
        var all = ClassHistogram.From([5, 5, 0, 0], 10);
        Assert.That((all.NormalisedEntropy, all.InSubset, all.Subset), Is.EqualTo((Math.Log(2) / Math.Log(10), 1.0, ((int, int)?)null)));
        Assert.That(ClassHistogram.From([3, 3], 10, (3, 3)).NormalisedEntropy, Is.NaN, "ln 1 = 0 normalises nothing");
        Assert.That(() => ClassHistogram.From([1], 10, (5, 10)), Throws.ArgumentException.With.Message.Contain("subset 5-10"));
    }
}
