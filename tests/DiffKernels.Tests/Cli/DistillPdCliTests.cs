using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk distill pd end to end on tiny settings: rounds, per-round students, resume, export, sample and eval; bad input.</summary>
public class DistillPdCliTests
{
    [Test]
    public void DistilResumeExportAndSampleEveryRoundsStudent()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir), run = dir.File("run");
        var first = Dk("distill", "pd", "--teacher", teacher, "--teacher-steps", "4", "--steps-per-round", "3", "--steps", "4", "--batch", "16",
            "--lr", "1e-3", "--log-every", "1", "--preview", "0", "--out", run);
        Assert.That(first.Code, Is.EqualTo(0), first.Err);
        Assert.That(first.Out, Does.Contain("on toy:moons: 4 → 1 Euler steps in 2 rounds of 3 updates"));
        Assert.That(File.Exists(Path.Combine(run, "student-k2.safetensors")) && !File.Exists(Path.Combine(run, "student-k1.safetensors")));

        AssertOneLineError(Dk("distill", "pd", "--out", run, "--resume", "--lr", "1e-4"), "dk distill pd: ", "on --resume the run keeps its settings");
        var resumed = Dk("distill", "pd", "--out", run, "--resume", "--steps", "6");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("at step 4 of 6"));
        string k1 = Path.Combine(run, "student-k1.safetensors");
        Assert.That(SafeTensors.ReadHeader(k1).Metadata["train.step"], Is.EqualTo("6"));

        string release = dir.File("pd-k2.safetensors");
        var export = Dk("export", "--model", Path.Combine(run, "student-k2.safetensors"), "--out", release);
        Assert.That(export.Code, Is.EqualTo(0), export.Err);
        var fromTraining = Dk("sample", "--model", Path.Combine(run, "student-k2.safetensors"), "--n", "40", "--npy", dir.File("a.npy"));
        var fromRelease = Dk("sample", "--model", release, "--n", "40", "--npy", dir.File("b.npy"));
        Assert.That(fromRelease.Code, Is.EqualTo(0), fromRelease.Err);
        Assert.That(fromRelease.Out, Does.Contain("euler with 2 levels: 2 NFE"));
        Assert.That(File.ReadAllBytes(dir.File("b.npy")), Is.EqualTo(File.ReadAllBytes(dir.File("a.npy"))), "the release samples as the round's checkpoint");

        var eval = Dk("eval", "--model", k1, "--n", "200", "--threshold", "clip");
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("euler, 1 NFE").And.Contain("grid: the recorded levels 80, 0"));
    }

    [Test]
    public void BadInputIsOneLineWithExitCode2()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir);
        AssertOneLineError(Dk("distill", "pd", "--teacher", teacher, "--teacher-steps", "64", "--final-steps", "3", "--out", dir.File("a")), "dk distill pd: ", "--final-steps 3 cannot be reached by halving --teacher-steps 64; the rounds give 32, 16, 8, 4, 2, 1");
        AssertOneLineError(Dk("distill", "pd", "--teacher", teacher, "--teacher-steps", "48", "--out", dir.File("b")), "dk distill pd: ", "power of two");
        AssertOneLineError(Dk("distill", "pd", "--teacher", teacher, "--data", "toy:8gaussians", "--out", dir.File("c")), "dk distill pd: ", "was trained on toy:moons");
        AssertOneLineError(Dk("distill", "pd", "--teacher", teacher, "--threshold", "sometimes", "--out", dir.File("d")), "dk distill pd: ", "unknown x0 threshold 'sometimes'");
        AssertOneLineError(Dk("distill", "pd", "--teacher", dir.File("missing.safetensors"), "--out", dir.File("e")), "dk distill pd: ", "does not exist");
        AssertOneLineError(Dk("distill", "pd", "--out", dir.File("f")), "dk distill pd: ", "--teacher is required");

        string run = dir.File("run");
        Assert.That(Dk("distill", "pd", "--teacher", teacher, "--teacher-steps", "2", "--steps-per-round", "2", "--batch", "8", "--preview", "0", "--out", run).Code, Is.EqualTo(0));
        string student = Path.Combine(run, "student-k1.safetensors");
        AssertOneLineError(Dk("distill", "pd", "--teacher", student, "--out", dir.File("g")), "dk distill pd: ", "training checkpoint");
        string release = dir.File("k1.safetensors");
        Assert.That(Dk("export", "--model", student, "--out", release).Code, Is.EqualTo(0));
        AssertOneLineError(Dk("distill", "pd", "--teacher", release, "--out", dir.File("h")), "dk distill pd: ", "needs a release checkpoint of a teacher");
    }
}
