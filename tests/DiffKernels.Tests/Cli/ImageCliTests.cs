using System.Text.Json;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using DiffKernels.Random;
using SixLabors.ImageSharp;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>train, sample and eval on Fashion-MNIST-shaped data, end to end on a tiny written data set and a few steps.</summary>
public class ImageCliTests
{
    [Test]
    public void TrainAConditionalUNetThenSampleAndEvalItsImages()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir), run = dir.File("run");
        var train = Dk("train", "--data", "fmnist:12", "--data-dir", data, "--model", "unet-xs", "--classes", "10", "--steps", "1", "--batch", "2",
            "--checkpoint-every", "0", "--preview", "0", "--out", run);
        Assert.That(train.Code, Is.EqualTo(0), train.Err);
        Assert.That(train.Out, Does.Contain("training unet-xs").And.Contain("conditioned on 10 classes"));
        string model = Path.Combine(run, "model.safetensors");
        var meta = SafeTensors.ReadHeader(model).Metadata;
        Assert.That(meta["crop"], Is.EqualTo("2"));
        Assert.That(meta["train.data"], Is.EqualTo("fmnist:12"));
        Assert.That(UNetConfig.FromJson(meta["config"]), Is.EqualTo(UNetConfig.XS(10)));

        string npy = dir.File("s.npy"), png = dir.File("s.png");
        var sample = Dk("sample", "--model", model, "--n", "5", "--steps", "2", "--class", "3", "--guidance", "2", "--npy", npy, "--png", png);
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("5 samples, heun with 2 levels: 3 NFE"));
        var (values, shape) = NpyFile.Read(npy);
        Assert.That(shape, Is.EqualTo(new[] { 5, 1, 28, 28 }), "cropped back from 32×32, NCHW");
        Assert.That(values.All(float.IsFinite));
        var info = Image.Identify(png);
        Assert.That((info.Width, info.Height), Is.EqualTo((3 * 30 + 2, 2 * 30 + 2)), "a 3×2 grid of 28×28 tiles with 2-pixel gutters");
        Assert.That(Dk("sample", "--model", model, "--class", "10").Err, Does.StartWith("dk sample: --class 10 is not a class of this model"));

        string clf = FakeFashion.TinyClassifier(dir), json = dir.File("eval.json"), grid = dir.File("eval.png");
        var eval = Dk("eval", "--model", model, "--n", "8", "--steps", "2", "--data-dir", data, "--classifier", clf, "--json", json, "--png", grid);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("FD (classifier features)").And.Contain("floor (8 training images)").And.Contain("class entropy").And.Contain("3 NFE"));
        var metrics = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That(metrics.GetProperty("data").GetString(), Is.EqualTo("fmnist"));
        Assert.That(metrics.GetProperty("samples").GetInt32(), Is.EqualTo(8));
        Assert.That(metrics.GetProperty("fd").GetDouble(), Is.GreaterThan(0));
        Assert.That(metrics.GetProperty("floor").GetDouble(), Is.GreaterThan(0));
        Assert.That(metrics.GetProperty("class_counts").EnumerateArray().Sum(e => e.GetInt32()), Is.EqualTo(8));
        Assert.That(File.Exists(grid));

        var noClassifier = Dk("eval", "--model", model, "--n", "8", "--data-dir", data, "--classifier", dir.File("none.safetensors"));
        Assert.That(noClassifier.Code, Is.EqualTo(2));
        Assert.That(noClassifier.Err, Does.StartWith("dk eval: metric classifier").And.Contain("--classifier"));
    }

    [Test]
    public void ImageModelsNeedSquareImagesAndClassesMatchingTheData()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, 4);
        var wrong = Dk("train", "--data", "fmnist", "--data-dir", data, "--classes", "3", "--out", dir.File("a"));
        Assert.That(wrong.Err, Does.StartWith("dk train: --classes 3: fmnist has 10 classes"));
        var points = Dk("train", "--data", "toy:moons", "--model", "unet-xs", "--out", dir.File("b"));
        Assert.That(points.Err, Does.StartWith("dk train: model 'unet-xs' takes square images"));
        var missing = Dk("train", "--data", "fmnist", "--data-dir", dir.File("nowhere"), "--out", dir.File("c"));
        Assert.That(missing.Code, Is.EqualTo(2));
        Assert.That(missing.Err, Does.Contain("apt-get install dataset-fashion-mnist"));
    }

    [Test]
    public void QuickstartSamplesTheFashionTeacherAndScoresItOnlyWhenTheDataIsThere()
    {
        using var dir = new TempDir();
        string teacher = dir.File("teacher.safetensors");
        using (var net = new UNet(new UNetConfig(32, 1, 4, [1, 2], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16, NumClasses: 10), new Generator(4)))
            ModelFactory.Save(teacher, net, extraMetadata: new Dictionary<string, string> { ["crop"] = "2", ["sampler_steps"] = "2" });
        string data = FakeFashion.Write(dir), clf = FakeFashion.TinyClassifier(dir);
        string[] Args(string outDir, string dataDir) =>
            ["quickstart", "--out", dir.File(outDir), "--steps", "1", "--samples", "100", "--fmnist-model", teacher, "--fmnist-samples", "6",
             "--classifier", clf, "--data-dir", dataDir];

        var noData = Dk(Args("a", dir.File("nowhere")));
        Assert.That(noData.Code, Is.EqualTo(0), noData.Err);
        Assert.That(noData.Out, Does.Contain("FD skipped: Fashion-MNIST").And.Contain("N = 6"));
        Assert.That(File.Exists(dir.File("a/fmnist-teacher.png")), "the grid is written without the data set");

        var scored = Dk(Args("b", data));
        Assert.That(scored.Code, Is.EqualTo(0), scored.Err);
        Assert.That(scored.Out, Does.Contain("UNet-XS teacher").And.Contain("N = 6 (floor at the same N)").And.Not.Contain("FD skipped"));
        var metrics = JsonDocument.Parse(File.ReadAllText(dir.File("b/fmnist-teacher.json"))).RootElement;
        Assert.That(metrics.GetProperty("nfe").GetInt32(), Is.EqualTo(3), "the checkpoint's own sampler settings");
        Assert.That(metrics.GetProperty("fd").GetDouble(), Is.GreaterThan(0));
    }
}
