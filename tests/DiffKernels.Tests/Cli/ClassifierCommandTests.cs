using DiffKernels.Diffusion.Models;
using DiffKernels.Tests.Diffusion.Evaluation;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>`dk train-classifier` end to end on a small fake dataset, and its user errors.</summary>
public class ClassifierCommandTests
{
    [Test]
    public void TrainsReportsAndSavesALoadableCheckpoint()
    {
        using var dir = new TempDir();
        FakeFashion.WriteBrighterByLabel(dir.Path, train: 64, test: 20, seed: 2);
        string output = dir.File(Path.Combine("models", "clf.safetensors"));
        var (code, stdout, stderr) = Dk("train-classifier", "--data", "fmnist:64", "--data-dir", dir.Path, "--out", output, "--epochs", "1", "--batch", "32");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("64 training and 20 test images"));
        Assert.That(stdout, Does.Match(@"epoch 1/1  train loss \d+\.\d{4}  test accuracy \d+\.\d\d%"));
        using var clf = Classifier.Load(output);
        Assert.That(clf.Config, Is.EqualTo(ClassifierConfig.FashionMnist()));
    }

    [Test]
    public void EstimatesItsTrainingStepsFromTheFirstReported()
    {
        using var dir = new TempDir();
        FakeFashion.WriteBrighterByLabel(dir.Path, train: 64, test: 20, seed: 2);
        var (code, stdout, stderr) = Dk("train-classifier", "--data", "fmnist:64", "--data-dir", dir.Path, "--out", dir.File("clf.safetensors"), "--epochs", "1", "--batch", "4");
        Assert.That(code, Is.EqualTo(0), stderr);
        var lines = stdout.ReplaceLineEndings("\n").Split('\n');
        Assert.That(lines, Has.One.Match(@"^about [0-9.]+ (s|min|h|days) for 16 steps \(measured [0-9.]+ (ms|s)/step on the first 10\); then a test-set pass after each epoch$"), stdout);
        Assert.That(Array.FindIndex(lines, l => l.StartsWith("about ", StringComparison.Ordinal)), Is.LessThan(Array.FindIndex(lines, l => l.StartsWith("epoch 1/1", StringComparison.Ordinal))),
            "the estimate comes before the epoch's report");
    }

    [Test]
    public void MissingDataAndBadOptionsFailWithOneLine()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Dk("train-classifier", "--data-dir", dir.Path, "--out", dir.File("x.safetensors"));
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(stderr, Does.Contain("train-images-idx3-ubyte").And.Contain("apt-get install dataset-fashion-mnist").And.Contain("--data-dir DIR"));

        (code, _, stderr) = Dk("train-classifier", "--data-dir", dir.Path, "--epochs", "0");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("--epochs 0 must be ≥ 1"));
    }
}
