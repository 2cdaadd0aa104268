using System.Text.Json;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>train, sample, eval and quickstart end to end on tiny settings.</summary>
public class DiffusionCliTests
{
    private static void AssertOneLineError((int Code, string Out, string Err) r, int code, string start)
    {
        Assert.That(r.Code, Is.EqualTo(code), r.Err);
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        Assert.That(r.Err, Does.StartWith(start));
    }

    [Test]
    public void TrainResumeSampleAndEvalAToyTeacher()
    {
        using var dir = new TempDir();
        string run = dir.File("run");
        var train = Dk("train", "--data", "toy:moons", "--steps", "30", "--batch", "32", "--checkpoint-every", "20", "--log-every", "10", "--preview", "100", "--out", run);
        Assert.That(train.Code, Is.EqualTo(0), train.Err);
        Assert.That(train.Out, Does.Contain("training mlp").And.Contain("done: 30 steps"));
        Assert.That(Directory.GetFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(new[] { ".dk-run.json", "log.jsonl", "model.safetensors", "samples-0000020.png", "samples-0000030.png" }));

        AssertOneLineError(Dk("train", "--data", "toy:moons", "--out", run), 2, "dk train: ");
        AssertOneLineError(Dk("train", "--out", run, "--resume", "--lr", "0.1"), 2, "dk train: on --resume the run keeps its settings");

        var resumed = Dk("train", "--out", run, "--resume", "--steps", "40");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("resuming").And.Contain("at step 30 of 40"));
        Assert.That(SafeTensors.ReadHeader(Path.Combine(run, "model.safetensors")).Metadata["train.step"], Is.EqualTo("40"));
        var steps = File.ReadAllLines(Path.Combine(run, "log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.That(steps, Is.EqualTo(new long[] { 10, 20, 30, 40 }));

        string model = Path.Combine(run, "model.safetensors"), npy = dir.File("s.npy"), png = dir.File("s.png");
        var sample = Dk("sample", "--model", model, "--n", "50", "--seed", "3", "--npy", npy, "--png", png);
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("50 samples, heun with 18 levels: 35 NFE"));
        var (data, shape) = NpyFile.Read(npy);
        Assert.That(shape, Is.EqualTo(new[] { 50, 2 }));
        Assert.That(data.All(float.IsFinite));
        Assert.That(File.Exists(png));

        string before = Convert.ToHexString(File.ReadAllBytes(npy));
        DkRunner.AssertOneLineError(Dk("sample", "--model", model, "--n", "50", "--npy", npy), "dk sample: --npy ", "already exists", "--force");
        Assert.That(Convert.ToHexString(File.ReadAllBytes(npy)), Is.EqualTo(before), "a refused sample leaves the file as it was");
        var again = Dk("sample", "--model", model, "--n", "50", "--seed", "3", "--npy", npy, "--sampler", "euler", "--steps", "7", "--force");
        Assert.That(again.Out, Does.Contain("euler with 7 levels: 7 NFE"));

        string json = dir.File("eval.json");
        var eval = Dk("eval", "--model", model, "--n", "200", "--json", json);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("sliced W2 to fresh data").And.Contain("floor (data vs data)").And.Contain("35 NFE"));
        Assert.That(eval.Out, Does.Not.Contain("modes covered"), "two moons has no modes");
        var metrics = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That(metrics.GetProperty("data").GetString(), Is.EqualTo("toy:moons"));
        Assert.That(metrics.GetProperty("sliced_wasserstein").GetDouble(), Is.GreaterThan(0));

        var mixture = Dk("eval", "--model", model, "--data", "toy:8gaussians", "--n", "100");
        Assert.That(mixture.Out, Does.Contain("modes covered").And.Contain("off-mode fraction"));
    }

    [Test]
    public void InputErrorsAreOneLineWithExitCode2()
    {
        using var dir = new TempDir();
        AssertOneLineError(Dk("train", "--data", "toy:spiral", "--out", dir.File("a")), 2, "dk train: unknown toy 'spiral'");
        AssertOneLineError(Dk("train", "--data", "mnist", "--out", dir.File("a")), 2, "dk train: unknown data 'mnist'");
        AssertOneLineError(Dk("train", "--data", "toy:moons", "--model", "vae", "--out", dir.File("a")), 2, "dk train: unknown model 'vae'");
        AssertOneLineError(Dk("train", "--out", dir.File("b"), "--resume"), 2, "dk train: nothing to resume");
        AssertOneLineError(Dk("sample", "--model", dir.File("missing.safetensors")), 2, "dk sample: ");
        AssertOneLineError(Dk("eval", "--model", dir.File("missing.safetensors")), 2, "dk eval: ");
    }

    [Test]
    public void DivergingTrainingStopsWithExitCode3()
    {
        using var dir = new TempDir();
        var r = Dk("train", "--data", "toy:8gaussians", "--steps", "100", "--batch", "16", "--lr", "1e30", "--warmup", "0", "--preview", "0", "--out", dir.File("run"));
        AssertOneLineError(r, 3, "dk train: training diverged");
        Assert.That(r.Out, Does.Contain("warning:").And.Contain("step skipped"));
    }

    [Test]
    public void QuickstartTrainsSamplesAndTabulates()
    {
        using var dir = new TempDir();
        var r = Dk("quickstart", "--out", dir.Path, "--steps", "30", "--samples", "300", "--fmnist-model", "none");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("skipped: no teacher at"), "the Fashion-MNIST part skips cleanly without its teacher");
        Assert.That(r.Out, Does.Contain("quickstart").And.Contain("Mlp teacher").And.Contain("toy:8gaussians").And.Contain("35"));
        Assert.That(File.Exists(dir.File("toy-8gaussians-teacher.png")));
        var metrics = JsonDocument.Parse(File.ReadAllText(dir.File("toy-8gaussians-teacher.json"))).RootElement;
        Assert.That(metrics.GetProperty("nfe").GetInt32(), Is.EqualTo(35));
        Assert.That(metrics.GetProperty("modes").GetInt32(), Is.EqualTo(8));

        string[] again = ["quickstart", "--out", dir.Path, "--steps", "1", "--samples", "100", "--fmnist-model", "none"];
        DkRunner.AssertOneLineError(Dk(again), "dk quickstart: --out ", "holds an earlier `dk quickstart` run", "--force");
        Assert.That(Dk([.. again, "--force"]).Code, Is.EqualTo(0), "with --force a second quickstart starts over instead of resuming");
    }
}
