using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>An image evaluation drawn and embedded a part at a time scores what one draw scored all at once, and scores the images dk sample exports.</summary>
public class ImageEvaluationTests
{
    [Test]
    public void PartsKeepFeaturesNotImagesAndScoreLikeOneDraw()
    {
        using var dir = new TempDir();
        const int N = 1100;
        string data = FakeFashion.Write(dir, N);
        using var clf = Classifier.Load(FakeFashion.TinyClassifier(dir));
        var evaluator = new FrechetEvaluator(clf, data);
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), "fmnist-gan.safetensors"));
        var options = model.DefaultOptions with { BatchSize = 250 };
        using var scope = Tensor.Scope();

        var (report, head) = ImageEvaluation.Evaluate(model, evaluator, N, options);

        var all = ImageEvaluation.AsExported(model.Sample(N, options.Seed, options: options).Samples, model.Crop);
        var once = evaluator.Evaluate(all);
        Assert.That(report.Metrics.Count, Is.EqualTo(N));
        Assert.That((report.Metrics.Fd, report.Metrics.Precision, report.Metrics.Recall), Is.EqualTo((once.Fd, once.Precision, once.Recall)));
        Assert.That(report.Metrics.Classes.Counts, Is.EqualTo(once.Classes.Counts));
        Assert.That(report.Floor, Is.EqualTo(evaluator.Floor(N)));
        Assert.That(head.Shape, Is.EqualTo(new Shape(ImageEvaluation.KeptImages, 32, 32, 1)), "only the grid's images stay");
        Assert.That(head.ToArray(), Is.EqualTo(all.ToArray()[..(ImageEvaluation.KeptImages * 32 * 32)]));
    }

    [Test]
    public void ScoredImagesAreTheExportedOnesPaddedBack()
    {
        const int n = 2, h = 6, w = 5, crop = 1;
        using var scope = Tensor.Scope();
        var raw = Tensor.FromArray(Enumerable.Range(0, n * h * w).Select(i => (i % 7 - 3) * 0.45f).ToArray(), n, h, w, 1);
        var scored = ImageEvaluation.AsExported(raw, crop).ToArray();
        var (exported, shape) = SampleExport.ForNpy(raw, crop);
        Assert.That(shape, Is.EqualTo(new[] { n, 1, h - 2 * crop, w - 2 * crop }));
        Assert.That(exported.Min(), Is.EqualTo(-1f), "values below the range are in the raw samples and clipped");
        Assert.That(exported.Max(), Is.EqualTo(1f));
        int k = 0;
        for (int i = 0; i < n; i++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    bool inside = y >= crop && y < h - crop && x >= crop && x < w - crop;
                    Assert.That(scored[(i * h + y) * w + x], Is.EqualTo(inside ? exported[k++] : -1f), $"image {i}, pixel ({y}, {x})");
                }
        Assert.That(k, Is.EqualTo(exported.Length));
    }
}
