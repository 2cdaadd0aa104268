using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk distill dmd2 end to end on tiny settings, then sample, eval and export of the K-step student; its bad input.</summary>
public class Dmd2CliTests
{
    [Test]
    public void DistilResumeSampleEvalAndExportATwoStepStudent()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir), run = dir.File("run");
        var distill = Dk("distill", "dmd2", "--teacher", teacher, "--steps-k", "2", "--steps", "6", "--batch", "16", "--lr", "1e-3",
            "--checkpoint-every", "3", "--log-every", "3", "--preview", "50", "--out", run);
        Assert.That(distill.Code, Is.EqualTo(0), distill.Err);
        Assert.That(distill.Out, Does.Contain("into a 2-step mlp student").And.Contain("σ levels 80,").And.Contain("done: 6 steps"));
        AssertOneLineError(Dk("distill", "dmd2", "--out", run, "--resume", "--steps-k", "4"), "dk distill dmd2: on --resume the run keeps its settings");

        var resumed = Dk("distill", "dmd2", "--out", run, "--resume", "--steps", "9");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("at step 6 of 9"));
        string student = Path.Combine(run, "student.safetensors");
        Assert.That(SafeTensors.ReadHeader(student).Metadata["train.step"], Is.EqualTo("9"));

        string release = dir.File("student-k2.safetensors");
        var export = Dk("export", "--model", student, "--out", release);
        Assert.That(export.Code, Is.EqualTo(0), export.Err);
        var sample = Dk("sample", "--model", release, "--n", "50", "--png", dir.File("s.png"));
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("50 samples, renoise with 2 levels: 2 NFE"));
        var eval = Dk("eval", "--model", release, "--n", "200");
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("renoise, 2 NFE").And.Contain("on toy:moons").And.Contain("grid: the recorded levels 80,"));

        AssertOneLineError(Dk("distill", "dmd2", "--teacher", release, "--out", dir.File("x")), "dk distill dmd2: ");
    }

    [Test]
    public void InputErrorsAreOneLineWithExitCode2()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir);
        AssertOneLineError(Dk("distill", "dmd2", "--out", dir.File("a")), "dk distill dmd2: --teacher is required");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", dir.File("none.safetensors"), "--out", dir.File("a")), "dk distill dmd2: teacher ");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--steps-k", "0", "--out", dir.File("b")),
            "dk distill dmd2: --steps-k 0 must be ≥ 1");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--steps-k", "5", "--grid", "4", "--out", dir.File("c")),
            "dk distill dmd2: --steps-k 5 cannot be taken from --grid 4");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--fake-updates", "0", "--out", dir.File("d")), "dk distill dmd2: --fake-updates 0 must be ≥ 1");
        AssertOneLineError(Dk("distill", "dmd2", "--out", dir.File("e"), "--resume"), "dk distill dmd2: nothing to resume");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--gan", "--out", dir.File("f")), "dk distill dmd2: --gan needs real data");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--data", "toy:moons", "--out", dir.File("g")), "dk distill dmd2: --data is read only by the GAN head");
        AssertOneLineError(Dk("distill", "dmd2", "--teacher", teacher, "--gan", "--data", "toy:8gaussians", "--out", dir.File("h")),
            "dk distill dmd2: DMD2: the GAN head's data toy:8gaussians is not the teacher's (toy:moons)");
    }
}
