using System.Text.Json;
using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>
/// --fd-every and --fd-n on the run commands: the FD curve of Fashion-MNIST runs (train, train --sadm, finetune, train-gan,
/// distill pd and diff-instruct), the SW₂ curve of toy runs (the distillations), the same weights as without it, the
/// value `dk eval` gives the checkpoint, resume, and one-line refusals of bad input.
/// </summary>
[NonParallelizable]
public class QualityCurveCliTests
{
    /// <summary>The (step, value, samples) of <paramref name="metric"/> in the run's log.</summary>
    private static List<(long Step, double Value, int Samples)> Curve(string run, string metric = "fd") =>
        File.ReadAllLines(Path.Combine(run, RunLoop.LogFile)).Select(l => JsonNode.Parse(l)!.AsObject()).Where(o => o.ContainsKey(metric))
            .Select(o => ((long)o["step"]!, (double)o[metric]!, (int)o[metric + "_n"]!)).ToList();

    private static void AssertCurve(string run, long[] steps, int samples, string metric = "fd")
    {
        var curve = Curve(run, metric);
        Assert.That(curve.Select(p => p.Step), Is.EqualTo(steps), run);
        Assert.That(curve.Select(p => p.Samples), Is.All.EqualTo(samples));
        Assert.That(curve.All(p => p.Value > 0 && double.IsFinite(p.Value)), string.Join(", ", curve));
        Assert.That(File.Exists(Path.Combine(run, metric + ".png")), metric + ".png");
    }

    private static Dictionary<string, float[]> Tensors(string checkpoint) => SafeTensors.Load(checkpoint).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

    [Test]
    public void TrainLogsTheFdDkEvalGivesItsCheckpointTrainsTheSameWeightsAndResumesTheCurve()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir), clf = FakeFashion.TinyClassifier(dir), teacher = TinyModels.FashionTeacherFile(dir);
        string run = dir.File("run"), plain = dir.File("plain");
        string[] train = ["train", "--init-from", teacher, "--data", "fmnist", "--data-dir", data, "--steps", "3", "--batch", "4", "--preview", "0", "--log-every", "1"];
        var r = Dk([.. train, "--fd-every", "2", "--fd-n", "8", "--classifier", clf, "--out", run]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("quality curve every 2 iterations and at the last: FD").And.Contain("8 samples (heun, 3 NFE: 24 network evaluations each)"));
        AssertCurve(run, [2, 3], 8);
        Assert.That(Dk([.. train, "--out", plain]).Code, Is.EqualTo(0));
        string checkpoint = Path.Combine(run, EdmTrainer.CheckpointFile);
        var measured = Tensors(checkpoint);
        foreach (var (name, values) in Tensors(Path.Combine(plain, EdmTrainer.CheckpointFile)))
            Assert.That(measured[name], Is.EqualTo(values), "the same training with and without the curve: " + name);

        string json = dir.File("eval.json");
        var eval = Dk("eval", "--model", checkpoint, "--n", "8", "--data-dir", data, "--classifier", clf, "--json", json);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("fd").GetDouble(), Is.EqualTo(Curve(run)[^1].Value), "dk eval --n 8 on the last checkpoint");

        var resumed = Dk("train", "--out", run, "--resume", "--steps", "5", "--fd-n", "6", "--data-dir", data, "--classifier", clf);
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(Curve(run).Select(p => (p.Step, p.Samples)), Is.EqualTo(new[] { (2L, 8), (3L, 8), (4L, 6), (5L, 6) }), "the curve goes on, with the new sample count");
        var ended = Dk("train", "--out", run, "--resume", "--steps", "6", "--fd-every", "0", "--data-dir", data);
        Assert.That(ended.Code, Is.EqualTo(0), ended.Err);
        Assert.That(Curve(run), Has.Count.EqualTo(4), "--fd-every 0 ends the curve");
        Assert.That(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Options], Does.Not.Contain("quality_curve"));
    }

    [Test]
    public void SadmFinetuneAndGanRunsOnFashionMnistLogTheirFdCurves()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, 12), clf = FakeFashion.TinyClassifier(dir), teacher = TinyModels.FashionTeacherFile(dir);
        string[] curve = ["--fd-every", "1", "--fd-n", "4", "--classifier", clf, "--data-dir", data, "--steps", "2", "--batch", "4", "--preview", "0"];

        string sadm = dir.File("sadm");
        var r = Dk(["train", "--init-from", teacher, "--data", "fmnist", "--sadm", "--sadm-warmup", "0", .. curve, "--out", sadm]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        AssertCurve(sadm, [1, 2], 4);

        string finetune = dir.File("finetune");
        r = Dk(["finetune", "--teacher", teacher, "--classes", "5-9", "--limit", "6", .. curve, "--out", finetune]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        AssertCurve(finetune, [1, 2], 4);

        string gan = dir.File("gan");
        r = Dk(["train-gan", "--data", "fmnist:12", .. curve, "--out", gan]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("4 samples (generator, 1 NFE: 4 network evaluations each)"));
        AssertCurve(gan, [1, 2], 4);
        // The run kind the contract tests cannot measure (no classifier reads their 8×8 images) trains the same without it.
        string plain = dir.File("gan-plain");
        Assert.That(Dk("train-gan", "--data", "fmnist:12", "--data-dir", data, "--steps", "2", "--batch", "4", "--preview", "0", "--out", plain).Code, Is.EqualTo(0));
        var measured = Tensors(Path.Combine(gan, "gan.safetensors"));
        foreach (var (name, values) in Tensors(Path.Combine(plain, "gan.safetensors"))) Assert.That(measured[name], Is.EqualTo(values), name);
    }

    [Test]
    public void DistilledStudentsAreMeasuredWithTheirOwnSamplers()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir), clf = FakeFashion.TinyClassifier(dir), teacher = TinyModels.FashionTeacherFile(dir);
        string[] images = ["--fd-every", "1", "--fd-n", "4", "--classifier", clf, "--data-dir", data, "--batch", "4", "--preview", "0"];

        string pd = dir.File("pd");
        var r = Dk(["distill", "pd", "--teacher", teacher, "--teacher-steps", "2", "--steps-per-round", "2", .. images, "--out", pd]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("4 samples (euler, 1 NFE"));
        AssertCurve(pd, [1, 2], 4);

        // Diff-Instruct reads no data: the test set comes from the --data-dir its curve adds.
        string di = dir.File("di");
        r = Dk(["distill", "diff-instruct", "--teacher", teacher, "--steps", "2", .. images, "--out", di]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("4 samples (euler, 1 NFE"));
        AssertCurve(di, [1, 2], 4);

        string toy = TinyModels.ToyTeacherFile(dir);
        string[] points = ["--fd-every", "2", "--fd-n", "64", "--steps", "2", "--batch", "8", "--preview", "0"];
        foreach (var (name, args) in new (string, string[])[]
        {
            ("dmd2", ["distill", "dmd2", "--teacher", toy, "--steps-k", "2"]),
            ("boot", ["distill", "boot", "--teacher", toy, "--grid", "6"]),
            ("ddil", ["distill", "ddil", "--base", "pd", "--teacher", toy, "--teacher-steps", "4", "--student-steps", "2", "--steps-per-round", "2", "--buffer", "4"]),
        })
        {
            string run = dir.File(name);
            r = Dk([.. args, .. points, "--out", run]);
            Assert.That(r.Code, Is.EqualTo(0), name + ": " + r.Err);
            Assert.That(r.Out, Does.Contain("SW₂ to fresh samples of toy:moons"), name);
            AssertCurve(run, [2], 64, "sw2");
        }
    }

    [Test]
    public void BadCurveInputIsOneLineWithExitCode2()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir);
        AssertOneLineError(Dk("train", "--data", "toy:moons", "--fd-every", "-1", "--out", dir.File("a")), "dk train: --fd-every -1 must be ≥ 0 (0: no curve)");
        AssertOneLineError(Dk("train", "--data", "toy:moons", "--fd-every", "5", "--fd-n", "1", "--out", dir.File("b")), "dk train: --fd-n 1 must be ≥ 2");
        AssertOneLineError(Dk("finetune", "--fd-every", "5", "--fd-n", "60001", "--out", dir.File("c")), "dk finetune: --fd-n 60001: at most 60,000");
        AssertOneLineError(Dk("train", "--data", "toy:moons", "--fd-n", "100", "--out", dir.File("d")), "dk train: --fd-n sets the quality curve; add --fd-every N");
        AssertOneLineError(Dk("distill", "pd", "--teacher", TinyModels.ToyTeacherFile(dir), "--classifier", "c.safetensors", "--out", dir.File("e")),
            "dk distill pd: --classifier sets the quality curve; add --fd-every N");
        AssertOneLineError(Dk("train", "--data", "fmnist", "--data-dir", data, "--fd-every", "5", "--classifier", dir.File("none.safetensors"), "--out", dir.File("f")),
            "dk train: --fd-every: metric classifier ", "none.safetensors not found; pass --classifier PATH");
        Assert.That(Directory.Exists(dir.File("f")) && Directory.EnumerateFileSystemEntries(dir.File("f")).Any(), Is.False, "a refused run leaves no files");

        // A teacher of images in a folder: dk eval scores no such data, so neither does the curve.
        string teacher = dir.File("folder-teacher.safetensors");
        using (var net = new UNet(new UNetConfig(8, 1, 4, [1], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16), new Generator(4)))
            ModelFactory.Save(teacher, net, extraMetadata: new Dictionary<string, string> { ["data"] = "folder:" + dir.File("images") });
        AssertOneLineError(Dk("distill", "boot", "--teacher", teacher, "--fd-every", "1", "--out", dir.File("g")),
            "dk distill boot: --fd-every: the quality curve scores Fashion-MNIST runs (FD) and toy runs (SW₂); this run draws 'folder:");
    }
}
