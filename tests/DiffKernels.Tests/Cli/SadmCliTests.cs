using System.Text.Json;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>`dk train --sadm` and `dk finetune`: runs that resume and export as ordinary teachers, and one-line refusals of bad input.</summary>
[NonParallelizable]
public class SadmCliTests
{
    private static string[] LogKeys(string run) =>
        JsonDocument.Parse(File.ReadLines(Path.Combine(run, RunLoop.LogFile)).First()).RootElement.EnumerateObject().Select(p => p.Name).ToArray();

    [Test]
    public void TrainWithSadmLogsTheTermResumesAndExportsAnOrdinaryTeacher()
    {
        using var dir = new TempDir();
        string run = dir.File("sadm");
        var r = Dk("train", "--data", "toy:8gaussians", "--sadm", "--sadm-lambda", "0.05", "--sadm-warmup", "2", "--steps", "3", "--batch", "16", "--preview", "0", "--log-every", "1", "--out", run);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("with SADM: λ 0.05"));
        Assert.That(LogKeys(run), Is.SupersetOf(new[] { "loss", "structure", "denoiser_loss", "encoder_loss", "lambda" }));
        string checkpoint = Path.Combine(run, EdmTrainer.CheckpointFile);
        Assert.That(SafeTensors.ReadHeader(checkpoint).Tensors.Select(t => t.Name), Has.Some.StartWith(CheckpointKeys.Discriminator).And.Some.StartWith(CheckpointKeys.DiscriminatorAdam));

        AssertOneLineError(Dk("train", "--out", run, "--resume", "--sadm-lambda", "0.1"), "dk train: ", "remove --sadm-lambda");
        r = Dk("train", "--out", run, "--resume", "--steps", "4");
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Step], Is.EqualTo("4"));

        string release = dir.File("release.safetensors");
        Assert.That(Dk("export", "--model", checkpoint, "--out", release).Code, Is.EqualTo(0));
        var kind = CheckpointKind.Of(release);
        Assert.That((kind.Role, kind.IsTraining), Is.EqualTo((ModelRole.Teacher, false)));
        Assert.That(SafeTensors.ReadHeader(release).Tensors.Select(t => t.Name), Has.None.StartWith(CheckpointKeys.Prefix));
        Assert.That(Dk("sample", "--model", release, "--n", "4").Code, Is.EqualTo(0));
    }

    [Test]
    public void BadSadmInputIsRefusedInOneLine()
    {
        using var dir = new TempDir();
        AssertOneLineError(Dk("train", "--data", "toy:8gaussians", "--sadm", "--batch", "2", "--out", dir.File("a")), "dk train: ", "batch 2 is too small for affinities");
        AssertOneLineError(Dk("train", "--data", "toy:8gaussians", "--sadm-lambda", "0.5", "--out", dir.File("b")), "dk train: --sadm-lambda", "add --sadm");
        AssertOneLineError(Dk("train", "--data", "toy:8gaussians", "--sadm", "--sadm-distance", "l1", "--out", dir.File("c")), "dk train: --sadm-distance 'l1'");
    }

    [Test]
    public void FinetuneContinuesATeacherOnAClassSubsetWithSadmAndResumes()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir, 30);
        string teacher = dir.File("teacher.safetensors");
        using (var net = new UNet(UNetConfig.XS(10) with { BaseChannels = 8, Groups = 4 }, new Generator(3)))
            ModelFactory.Save(teacher, net, extraMetadata: new Dictionary<string, string> { ["data"] = "fmnist@classes=0-4", ["crop"] = "2" });
        string run = dir.File("ft");
        var r = Dk("finetune", "--teacher", teacher, "--data-dir", data, "--classes", "5-9", "--limit", "8", "--sadm", "--sadm-warmup", "0",
            "--steps", "2", "--batch", "4", "--preview", "0", "--out", run);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain($"warm start from {teacher}").And.Contain("with SADM"));
        string checkpoint = Path.Combine(run, EdmTrainer.CheckpointFile);
        var meta = SafeTensors.ReadHeader(checkpoint).Metadata;
        Assert.That((meta[CheckpointKeys.Data], meta[CheckpointKeys.InitFrom]), Is.EqualTo(("fmnist@classes=5-9,limit=8", teacher)));
        Assert.That(Dk("finetune", "--out", run, "--resume", "--steps", "3", "--data-dir", data).Code, Is.EqualTo(0));
        Assert.That(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Step], Is.EqualTo("3"));

        AssertOneLineError(Dk("finetune", "--teacher", teacher, "--data-dir", data, "--classes", "10-12", "--out", dir.File("e1")),
            "dk finetune: data 'fmnist@classes=10-12': the selection leaves no images");
        AssertOneLineError(Dk("finetune", "--teacher", teacher, "--data-dir", data, "--limit", "3", "--batch", "4", "--out", dir.File("e2")),
            "dk finetune: --batch 4 is more than the 3 images");
        AssertOneLineError(Dk("finetune", "--teacher", checkpoint, "--out", dir.File("e3")), "dk finetune: ", "dk finetune --teacher needs a release checkpoint of a teacher");
        AssertOneLineError(Dk("finetune", "--teacher", Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-diff-instruct.safetensors"), "--out", dir.File("e4")),
            "dk finetune: ", "a distilled student", "needs a release checkpoint of a teacher");
        AssertOneLineError(Dk("finetune", "--teacher", Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors"), "--classes", "1-2", "--out", dir.File("e5")),
            "dk finetune: ", "only image data can be subset");
    }

    [Test]
    public void FinetuneWithoutSadmOnAToyUsesTheTeachersData()
    {
        using var dir = new TempDir();
        string run = dir.File("toy");
        var r = Dk("finetune", "--teacher", Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-teacher.safetensors"), "--steps", "2", "--batch", "16", "--preview", "0", "--out", run);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(r.Out, Does.Contain("training on toy:8gaussians").And.Not.Contain("SADM"));
        Assert.That(LogKeys(run), Has.None.EqualTo("structure"));
    }
}
