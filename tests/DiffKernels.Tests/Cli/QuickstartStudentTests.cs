using System.Text.Json;
using System.Text.RegularExpressions;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;
using DiffKernels.Tests.Diffusion.Models;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>The quickstart's student rows: present exactly when the student's file is.</summary>
public class QuickstartStudentTests
{
    private static string[] TableRows(string output, string model) =>
        output.Split('\n').Where(l => l.Contains(model, StringComparison.Ordinal) && l.Contains('│')).ToArray();

    [Test]
    public void StudentsStandBesideTheirTeachersWhenTheirFilesExist()
    {
        using var dir = new TempDir();
        string fashionStudent = dir.File("fmnist-student.safetensors");
        using (var net = new UNet(TinyModels.TinyUNet, new Generator(2)))
            ModelFactory.Save(fashionStudent, net, extraMetadata: new Dictionary<string, string> { ["method"] = "diff-instruct", ["sampler"] = "euler", ["sampler_steps"] = "1", ["sampler_sigma_max"] = "2.5" });
        string toyStudent = Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-diff-instruct.safetensors");

        var r = Dk("quickstart", "--out", dir.File("run"), "--steps", "20", "--samples", "300", "--toy-student", toyStudent,
            "--fmnist-model", "none", "--fmnist-student", fashionStudent, "--fmnist-samples", "4", "--classifier", "none",
            "--toy-boot-student", Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-boot.safetensors"), "--fmnist-boot-student", "none");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        // Spectre wraps long lines at the console width, and the model's path length depends on the checkout's location.
        string unwrapped = Regex.Replace(r.Out, @"\s+", " ");
        Assert.That(unwrapped, Does.Contain("distilled from models/toy-8gaussians-teacher.safetensors (euler, 1 NFE)"), r.Out);
        var rows = TableRows(r.Out, "Diff-Instruct student (1 step)");
        Assert.That(rows, Has.Length.EqualTo(2), r.Out);
        Assert.That(rows[0], Does.Contain("toy:8gaussians").And.Contain("8/8 modes").And.Contain("faster than the teacher"));
        Assert.That(rows[1], Does.Contain("fmnist").And.Contain("FD skipped"));
        Assert.That(rows[1], Does.Not.Contain("faster"), "no speed-up against a teacher that was not sampled");
        var metrics = JsonDocument.Parse(File.ReadAllText(dir.File("run/toy-8gaussians-diff-instruct.json"))).RootElement;
        Assert.That(metrics.GetProperty("nfe").GetInt32(), Is.EqualTo(1));
        Assert.That(metrics.GetProperty("modes_covered").GetInt32(), Is.EqualTo(8));
        Assert.That(File.Exists(dir.File("run/toy-8gaussians-diff-instruct.png")));
        Assert.That(File.Exists(dir.File("run/fmnist-diff-instruct.png")));
        var boot = TableRows(r.Out, "BOOT student (1 step)");
        Assert.That(boot, Has.Length.EqualTo(1), r.Out);
        Assert.That(boot[0], Does.Contain("toy:8gaussians").And.Contain("8/8 modes").And.Contain("faster than the teacher"));
        Assert.That(File.Exists(dir.File("run/toy-8gaussians-boot.png")));
        Assert.That(r.Out, Does.Contain("no Fashion-MNIST BOOT student at"));

        var without = Dk("quickstart", "--out", dir.File("run2"), "--steps", "1", "--samples", "100", "--toy-student", "none",
            "--fmnist-model", "none", "--fmnist-student", "none",
            "--toy-boot-student", "none", "--fmnist-boot-student", "none");
        Assert.That(without.Code, Is.EqualTo(0), without.Err);
        Assert.That(TableRows(without.Out, "Diff-Instruct"), Is.Empty, "no row for a student left out");
        Assert.That(Regex.Replace(without.Out, @"\s+", " "), Does.Contain("no student at").And.Contain("no Fashion-MNIST student at"));
    }
}
