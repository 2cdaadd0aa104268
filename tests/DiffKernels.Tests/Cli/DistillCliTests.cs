using System.Text.Json;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk distill diff-instruct end to end on tiny settings, then sample and eval of the student.</summary>
public class DistillCliTests
{
    [Test]
    public void DistilResumeSampleAndEvalAOneStepStudent()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir), run = dir.File("run");
        var distill = Dk("distill", "diff-instruct", "--teacher", teacher, "--steps", "6", "--batch", "16", "--lr", "1e-3",
            "--checkpoint-every", "3", "--log-every", "3", "--preview", "50", "--out", run);
        Assert.That(distill.Code, Is.EqualTo(0), distill.Err);
        Assert.That(distill.Out, Does.Contain("into a one-step mlp student").And.Contain("σ_init 1").And.Contain("done: 6 steps"));
        Assert.That(Directory.GetFiles(run).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Is.EqualTo(new[] { ".dk-run.json", "log.jsonl", "samples-0000003.png", "samples-0000006.png", "student.safetensors" }));

        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", teacher, "--out", run), "dk distill diff-instruct: ");
        AssertOneLineError(Dk("distill", "diff-instruct", "--out", run, "--resume", "--batch", "8"), "dk distill diff-instruct: on --resume the run keeps its settings");

        var resumed = Dk("distill", "diff-instruct", "--out", run, "--resume", "--steps", "9");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("resuming").And.Contain("at step 6 of 9"));
        string student = Path.Combine(run, "student.safetensors");
        Assert.That(SafeTensors.ReadHeader(student).Metadata["train.step"], Is.EqualTo("9"));
        var steps = File.ReadAllLines(Path.Combine(run, "log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64());
        Assert.That(steps, Is.EqualTo(new long[] { 3, 6, 9 }));

        var sample = Dk("sample", "--model", student, "--n", "50", "--png", dir.File("s.png"));
        Assert.That(sample.Code, Is.EqualTo(0), sample.Err);
        Assert.That(sample.Out, Does.Contain("50 samples, euler with 1 levels: 1 NFE"));

        string json = dir.File("eval.json");
        var eval = Dk("eval", "--model", student, "--n", "200", "--json", json);
        Assert.That(eval.Code, Is.EqualTo(0), eval.Err);
        Assert.That(eval.Out, Does.Contain("euler, 1 NFE").And.Contain("on toy:moons"));
        Assert.That(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("nfe").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public void InputErrorsAreOneLineWithExitCode2()
    {
        using var dir = new TempDir();
        AssertOneLineError(Dk("distill", "diff-instruct", "--out", dir.File("a")), "dk distill diff-instruct: --teacher is required");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", dir.File("none.safetensors"), "--out", dir.File("a")), "dk distill diff-instruct: teacher ");
        AssertOneLineError(Dk("distill", "diff-instruct", "--out", dir.File("b"), "--resume"), "dk distill diff-instruct: nothing to resume");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", TinyModels.ToyTeacherFile(dir), "--sigma-init", "0", "--out", dir.File("c")), "dk distill diff-instruct: ");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", TinyModels.ToyTeacherFile(dir), "--batch", "0", "--out", dir.File("d")), "dk distill diff-instruct: --batch 0 must be ≥ 1");
    }
}
