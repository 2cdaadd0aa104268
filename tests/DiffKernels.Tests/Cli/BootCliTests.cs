using System.Text.Json;
using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk distill boot end to end on tiny settings: data-free, resumable, sampled in one evaluation; bad input in one line.</summary>
public class BootCliTests
{
    [Test]
    public void DistilsAnImageTeacherWhoseDataDirectoryDoesNotExistThenResumesAndSamples()
    {
        using var dir = new TempDir();
        // The teacher records image data in a folder that is not there: a run that opened its data would fail.
        string missing = dir.File("no-such-data"), teacher = dir.File("teacher.safetensors"), run = dir.File("run");
        using (var net = new UNet(new UNetConfig(8, 1, 4, [1], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16, NumClasses: 3), new Generator(4)))
            ModelFactory.Save(teacher, net, extraMetadata: new Dictionary<string, string> { ["data"] = "folder:" + missing });
        var distill = Dk("distill", "boot", "--teacher", teacher, "--steps", "4", "--batch", "4", "--grid", "6", "--pairs", "stratified", "--guidance", "1.5",
            "--checkpoint-every", "2", "--log-every", "2", "--preview", "4", "--out", run);
        Assert.That(distill.Code, Is.EqualTo(0), distill.Err);
        Assert.That(Directory.Exists(missing), Is.False);
        Assert.That(distill.Out, Does.Contain("one-step BOOT unet student").And.Contain("6-point Karras grid").And.Contain("stratified pairs").And.Contain("guidance 1.5").And.Contain("done: 4 steps"));
        foreach (var file in new[] { "student.safetensors", "log.jsonl", "samples-0000004.png", BootPlots.LossFile, BootPlots.GapFile, "boot-trajectory-gap.json", "boot-loss-by-sigma.json" })
            Assert.That(File.Exists(Path.Combine(run, file)), file);
        var gap = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "boot-trajectory-gap.json"))).RootElement;
        Assert.That(gap.GetProperty("mean_squared_gap").GetArrayLength(), Is.EqualTo(6));
        Assert.That(gap.GetProperty("mean_squared_gap")[0].GetDouble(), Is.EqualTo(0), "both trajectories start at σmax·ε");

        var resumed = Dk("distill", "boot", "--out", run, "--resume", "--steps", "6");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("at step 4 of 6"));
        AssertOneLineError(Dk("distill", "boot", "--out", run, "--resume", "--grid", "8"), "dk distill boot: ", "on --resume the run keeps its settings");

        string student = Path.Combine(run, "student.safetensors");
        Assert.That(SafeTensors.ReadHeader(student).Metadata["train.method"], Is.EqualTo("boot"));
        string release = dir.File("boot.safetensors");
        Assert.That(Dk("export", "--model", student, "--out", release).Code, Is.EqualTo(0));
        Assert.That(SafeTensors.ReadHeader(release).Metadata[BootStudent.ParameterisationKey], Is.EqualTo(BootStudent.Parameterisation));
        var sample = Dk("sample", "--model", release, "--n", "6", "--png", dir.File("s.png"));
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("one generator evaluation: 1 NFE"));
    }

    [Test]
    public void RefusesBadTeachersGridsAndSigmaRangesInOneLine()
    {
        using var dir = new TempDir();
        string teacher = Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors");
        string malformed = dir.File("malformed.safetensors");
        File.WriteAllText(malformed, "not a checkpoint");
        string[] Args(string t, params string[] more) => ["distill", "boot", "--teacher", t, "--steps", "1", "--batch", "4", "--preview", "0", "--out", dir.File($"run{more.Length}{more.FirstOrDefault()}"), .. more];
        AssertOneLineError(Dk(Args(malformed)), "dk distill boot: ", malformed);
        AssertOneLineError(Dk(Args(dir.File("absent.safetensors"))), "dk distill boot: ", "does not exist");
        AssertOneLineError(Dk(Args(teacher, "--grid", "1")), "dk distill boot: ", "--grid 1 must be ≥ 2 (one pair)");
        AssertOneLineError(Dk(Args(teacher, "--sigma-max", "200")), "dk distill boot: ", "the σ range must lie within the teacher's [0.002, 80]");
        AssertOneLineError(Dk(Args(teacher, "--sigma-min", "0.0001")), "dk distill boot: ", "the σ range must lie within the teacher's [0.002, 80]");
        AssertOneLineError(Dk(Args(teacher, "--grid-kind", "cosine")), "dk distill boot: ", "expected karras or log-sigma");
        AssertOneLineError(Dk(Args(teacher, "--guidance", "2")), "dk distill boot: ", "needs a class-conditional teacher");
    }
}
