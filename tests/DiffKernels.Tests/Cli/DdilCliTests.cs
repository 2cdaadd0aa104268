using System.Text.Json;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk distill ddil on both bases and dk shift, end to end on a tiny toy teacher, and their refusals.</summary>
public class DdilCliTests
{
    [Test]
    public void DistilOnBothBasesResumeAndMeasureTheShift()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir), pd = dir.File("pd"), dmd2 = dir.File("dmd2");
        var first = Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--teacher-steps", "8", "--student-steps", "2", "--steps-per-round", "2",
            "--batch", "8", "--buffer", "4", "--warmup", "0", "--ramp-end", "0", "--mix", "0.5", "--preview", "0", "--out", pd, "--steps", "3");
        Assert.That(first.Code, Is.EqualTo(0), first.Err);
        Assert.That(first.Out, Does.Contain("DDIL on pd").And.Contain("into a 2-step student on toy:moons for 3 steps, batch 8"));
        AssertOneLineError(Dk("distill", "ddil", "--out", pd, "--resume", "--mix", "0.2"), "dk distill ddil: ", "on --resume the run keeps its settings", "--mix");
        var resumed = Dk("distill", "ddil", "--out", pd, "--resume", "--steps", "4");
        Assert.That(resumed.Code, Is.EqualTo(0), resumed.Err);
        Assert.That(resumed.Out, Does.Contain("at step 3 of 4"));
        AssertOneLineError(Dk("distill", "ddil", "--out", pd, "--resume", "--steps", "5"), "dk distill ddil: ", "--steps 5", "2 rounds × 2 steps per round = 4 steps");
        string student = Path.Combine(pd, "student-k2.safetensors");
        var metadata = SafeTensors.ReadHeader(student).Metadata;
        Assert.That(metadata[CheckpointKeys.Method], Is.EqualTo("pd"));
        Assert.That(JsonDocument.Parse(metadata[CheckpointKeys.Ddil]).RootElement.GetProperty("mix_probability").GetDouble(), Is.EqualTo(0.5));
        var log = File.ReadAllLines(Path.Combine(pd, "log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(log[^1].GetProperty("beta_student").GetDouble(), Is.EqualTo(0.3));

        string release = dir.File("k2.safetensors"), json = dir.File("shift.json"), png = dir.File("shift.png");
        Assert.That(Dk("export", "--model", student, "--out", release).Code, Is.EqualTo(0));
        var shift = Dk("shift", "--model", release, "--n", "200", "--teacher-substeps", "2", "--json", json, "--png", png);
        Assert.That(shift.Code, Is.EqualTo(0), shift.Err);
        Assert.That(shift.Out, Does.Contain("covariate shift against toy:moons"));
        var rows = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("rows");
        Assert.That(rows.GetArrayLength(), Is.EqualTo(2));
        Assert.That(rows[0].GetProperty("student").GetDouble(), Is.EqualTo(rows[0].GetProperty("teacher").GetDouble()), "both start from the same σ_max·z");
        Assert.That(rows.EnumerateArray().All(r => r.GetProperty("student").GetDouble() > 0 && double.IsFinite(r.GetProperty("teacher").GetDouble())));
        Assert.That(File.Exists(png));

        var other = Dk("distill", "ddil", "--base", "dmd2", "--teacher", teacher, "--student-steps", "2", "--steps", "2", "--batch", "8", "--buffer", "4",
            "--threshold", "clip", "--preview", "0", "--out", dmd2);
        Assert.That(other.Code, Is.EqualTo(0), other.Err);
        var dmd2Metadata = SafeTensors.ReadHeader(Path.Combine(dmd2, "student.safetensors")).Metadata;
        Assert.That((dmd2Metadata[CheckpointKeys.Method], dmd2Metadata["sampler"], dmd2Metadata["sampler_threshold"]), Is.EqualTo(("dmd2", "renoise", "clip")));
        Assert.That(Dk("distill", "ddil", "--out", dmd2, "--resume", "--steps", "3").Code, Is.EqualTo(0));
    }

    [Test]
    public void BadInputIsRefusedInOneLine()
    {
        using var dir = new TempDir();
        string teacher = TinyModels.ToyTeacherFile(dir);
        AssertOneLineError(Dk("distill", "ddil", "--teacher", teacher, "--out", dir.File("a")), "dk distill ddil: ", "--base is required");
        AssertOneLineError(Dk("distill", "ddil", "--base", "cm", "--teacher", teacher, "--out", dir.File("a")), "dk distill ddil: ", "--base cm: expected pd or dmd2");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--out", dir.File("a")), "dk distill ddil: ", "--teacher is required");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", dir.File("none.safetensors"), "--out", dir.File("a")), "dk distill ddil: ", "does not exist");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--beta-data", "1.5", "--out", dir.File("a")), "dk distill ddil: ", "--beta-data 1.5 must lie in [0, 1]");
        AssertOneLineError(Dk("distill", "ddil", "--base", "dmd2", "--teacher", teacher, "--beta-student", "-0.3", "--out", dir.File("a")), "dk distill ddil: ", "--beta-student -0.3 must lie in [0, 1]");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--beta-teacher", "0.5", "--out", dir.File("a")), "dk distill ddil: ", "must sum to 1");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--mix", "2", "--out", dir.File("a")), "dk distill ddil: ", "--mix 2 must lie in [0, 1]");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--data", "toy:8gaussians", "--out", dir.File("a")), "dk distill ddil: ", "was trained on toy:moons");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", teacher, "--threshold", "sometimes", "--out", dir.File("a")), "dk distill ddil: ", "unknown x0 threshold");

        string plain = dir.File("plain");
        Assert.That(Dk("distill", "pd", "--teacher", teacher, "--teacher-steps", "2", "--steps-per-round", "2", "--batch", "8", "--preview", "0", "--out", plain).Code, Is.EqualTo(0));
        AssertOneLineError(Dk("distill", "ddil", "--out", plain, "--resume"), "dk distill ddil: ", "belongs to a `dk distill pd` run");
        string student = Path.Combine(plain, "student.safetensors");
        AssertOneLineError(Dk("distill", "ddil", "--base", "pd", "--teacher", student, "--out", dir.File("b")), "dk distill ddil: ", "training checkpoint");
        string release = dir.File("k1.safetensors");
        Assert.That(Dk("export", "--model", student, "--out", release).Code, Is.EqualTo(0));
        AssertOneLineError(Dk("distill", "ddil", "--base", "dmd2", "--teacher", release, "--out", dir.File("c")), "dk distill ddil: ", "needs a release checkpoint of a teacher");

        AssertOneLineError(Dk("shift", "--model", teacher), "dk shift: ", "needs a checkpoint of a distilled student");
        AssertOneLineError(Dk("shift", "--model", dir.File("none.safetensors")), "dk shift: ", "does not exist");
        AssertOneLineError(Dk("shift", "--model", release, "--teacher-substeps", "0"), "dk shift: ", "--teacher-substeps 0");
        AssertOneLineError(Dk("shift", "--model", release, "--teacher", release), "dk shift: ", "of a teacher");
    }
}
