using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>An image evaluation drawn and embedded a part at a time scores what one draw scored all at once.</summary>
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

        var all = ImageEvaluation.ResetBorder(model.Sample(N, options.Seed, options: options).Samples, model.Crop);
        var once = evaluator.Evaluate(all);
        Assert.That(report.Metrics.Count, Is.EqualTo(N));
        Assert.That((report.Metrics.Fd, report.Metrics.Precision, report.Metrics.Recall), Is.EqualTo((once.Fd, once.Precision, once.Recall)));
        Assert.That(report.Metrics.Classes.Counts, Is.EqualTo(once.Classes.Counts));
        Assert.That(report.Floor, Is.EqualTo(evaluator.Floor(N)));
        Assert.That(head.Shape, Is.EqualTo(new Shape(ImageEvaluation.KeptImages, 32, 32, 1)), "only the grid's images stay");
        Assert.That(head.ToArray(), Is.EqualTo(all.ToArray()[..(ImageEvaluation.KeptImages * 32 * 32)]));
    }
}
