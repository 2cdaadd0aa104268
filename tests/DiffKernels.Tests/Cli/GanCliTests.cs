using System.Text.Json;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk train-gan, then sample, eval and Diff-Instruct refinement of its generator, on a tiny written data set.</summary>
public class GanCliTests
{
    private static void AssertOneLineError((int Code, string Out, string Err) r, string start)
    {
        DkRunner.AssertOneLineError(r, start);
        Assert.That(r.Err, Does.Not.Contain("(Parameter '"), "library argument names stay out of command-line errors");
    }

    [Test]
    public void TrainResumeSampleEvalAndRefineAGan()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, 12), run = dir.File("run");
        var train = Dk("train-gan", "--data", "fmnist:12", "--data-dir", data, "--steps", "2", "--batch", "4", "--checkpoint-every", "2",
            "--log-every", "1", "--preview", "10", "--out", run);
        Assert.That(train.Code, Is.EqualTo(0), train.Err);
        Assert.That(train.Out, Does.Contain("training a GAN on fmnist:12").And.Contain("conditioned on 10 classes").And.Contain("done: 2 steps"));
        AssertOneLineError(Dk("train-gan", "--data", "fmnist:12", "--data-dir", data, "--out", run), "dk train-gan: ");
        AssertOneLineError(Dk("train-gan", "--out", run, "--resume", "--lr", "0.1", "--data-dir", data), "dk train-gan: on --resume the run keeps its settings");
        var resumed = Dk("train-gan", "--out", run, "--resume", "--steps", "3", "--data-dir", data);
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("at step 2 of 3"));
        string gan = Path.Combine(run, "gan.safetensors");
        var meta = SafeTensors.ReadHeader(gan).Metadata;
        Assert.That((meta["model"], meta["sampler"], meta["crop"], meta["train.step"]), Is.EqualTo(("gan_generator", "generator", "2", "3")));
        Assert.That(File.ReadAllLines(Path.Combine(run, "log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64()),
            Is.EqualTo(new long[] { 1, 2, 3 }));

        string npy = dir.File("s.npy");
        var sample = Dk("sample", "--model", gan, "--n", "5", "--class", "3", "--npy", npy);
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("5 samples, one generator evaluation: 1 NFE"));
        Assert.That(NpyFile.Read(npy).Shape, Is.EqualTo(new[] { 5, 1, 28, 28 }));
        AssertOneLineError(Dk("sample", "--model", gan, "--sampler", "heun"), "dk sample: --sampler heun: " + gan + " is a gan_generator generator: it draws each sample in one evaluation");

        string clf = FakeFashion.TinyClassifier(dir), json = dir.File("eval.json");
        var eval = Dk("eval", "--model", gan, "--n", "8", "--data-dir", data, "--classifier", clf, "--json", json);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("generator, 1 NFE"));
        var metrics = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That((metrics.GetProperty("sampler").GetString(), metrics.GetProperty("nfe").GetInt32()), Is.EqualTo(("generator", 1)));

        // A small conditional U-Net stands in for the teacher: refinement is plumbing here, not quality.
        string teacher = dir.File("teacher.safetensors");
        using (var net = new UNet(UNetConfig.XS(10) with { BaseChannels = 8, Groups = 4 }, new Generator(3)))
            ModelFactory.Save(teacher, net, extraMetadata: new Dictionary<string, string> { ["train.data"] = "fmnist:12", ["crop"] = "2" });
        string refined = dir.File("refined");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", teacher, "--generator", gan, "--out", refined),
            $"dk distill diff-instruct: {gan}: a training checkpoint of a GAN generator (gan_generator; gan run at step 3); a generator to refine (--generator) needs a release checkpoint of a GAN generator or a distilled student: export it first: dk export --model {gan}");
        string released = dir.File("gan-release.safetensors");
        var export = Dk("export", "--model", gan, "--out", released);
        Assert.That(export.Code, Is.EqualTo(0), export.Err);
        gan = released;
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", teacher, "--generator", gan, "--sigma-init", "2.5", "--out", refined),
            "dk distill diff-instruct: --sigma-init applies to the one-step student");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", teacher, "--generator", teacher, "--out", refined),
            "dk distill diff-instruct: ");
        var distill = Dk("distill", "diff-instruct", "--teacher", teacher, "--generator", gan, "--steps", "1", "--batch", "2", "--lr", "1e-5",
            "--preview", "4", "--out", refined);
        Assert.That(distill.Code, Is.EqualTo(0), distill.Err);
        Assert.That(distill.Out, Does.Contain("refining the gan_generator generator"));
        string student = Path.Combine(refined, "student.safetensors");
        Assert.That(SafeTensors.ReadHeader(student).Metadata["model"], Is.EqualTo("gan_generator"));
        var again = Dk("sample", "--model", student, "--n", "3");
        Assert.That(again.Code, Is.EqualTo(0), again.Err);
        Assert.That(again.Out, Does.Contain("one generator evaluation: 1 NFE"));
        var resumeRefine = Dk("distill", "diff-instruct", "--out", refined, "--resume", "--steps", "2");
        Assert.That(resumeRefine.Code, Is.EqualTo(0), resumeRefine.Err);
        Assert.That(resumeRefine.Out, Does.Contain("at step 1 of 2"));
    }

    [Test]
    public void BadArgumentsAreOneLineErrors()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, 4);
        AssertOneLineError(Dk("train-gan", "--out", dir.File("a")), "dk train-gan: --data is required");
        AssertOneLineError(Dk("train-gan", "--data", "toy:moons", "--out", dir.File("b")), "dk train-gan: train-gan takes square images");
        AssertOneLineError(Dk("train-gan", "--data", "fmnist", "--data-dir", data, "--classes", "3", "--out", dir.File("c")), "dk train-gan: --classes 3: fmnist has 10 classes");
        AssertOneLineError(Dk("train-gan", "--data", "fmnist", "--data-dir", data, "--batch", "0", "--out", dir.File("d")), "dk train-gan: --batch 0 must be ≥ 1");
        AssertOneLineError(Dk("train-gan", "--out", dir.File("e"), "--resume"), "dk train-gan: nothing to resume");
    }
}
