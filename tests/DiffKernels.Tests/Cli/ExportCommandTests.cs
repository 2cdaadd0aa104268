using System.Text.Json;
using System.Text.RegularExpressions;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.IO;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Cli;

/// <summary>dk export, the provenance it carries, and the warm start from what it writes, on a few-step toy run.</summary>
public class ExportCommandTests
{
    private static void AssertOneLineError((int Code, string Out, string Err) r, params string[] parts)
    {
        Assert.That(r.Code, Is.EqualTo(2), r.Err);
        Assert.That(r.Err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        foreach (var part in parts) Assert.That(r.Err, Does.Contain(part));
    }

    private static float[] Samples(string path)
    {
        using var model = PretrainedModel.Load(path);
        using var scope = Tensor.Scope();
        return model.Sample(16, seed: 3).Samples.ToArray();
    }

    private static string Train(TempDir dir, string name, params string[] extra)
    {
        string run = dir.File(name);
        var r = Dk(["train", "--data", "toy:8gaussians", "--batch", "16", "--preview", "0", "--out", run, .. extra]);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        return Path.Combine(run, "model.safetensors");
    }

    [Test]
    public void ExportKeepsExactlyTheSamplingTensorsAndSamplesLikeTheTrainingCheckpoint()
    {
        using var dir = new TempDir();
        string training = Train(dir, "run", "--steps", "3"), release = dir.File("release.safetensors");
        var export = Dk("export", "--model", training, "--out", release);
        Assert.That(export.Code, Is.EqualTo(0), export.Err);
        Assert.That(Regex.Replace(export.Out, @"\s+", " "), Does.Contain("from a training checkpoint of a teacher (mlp; edm run at step 3)"));

        var header = SafeTensors.ReadHeader(release);
        using (var loaded = ModelFactory.Load(release))
            Assert.That(header.Tensors.Select(t => t.Name), Is.EquivalentTo(loaded.Model.StateDict().Keys));
        Assert.That(header.Tensors.Select(t => t.DType), Is.All.EqualTo(DType.F32));
        Assert.That(header.Metadata.Keys, Has.None.StartsWith(ModelFactory.TrainingPrefix));
        Assert.That(CheckpointKind.Of(release) is { IsTraining: false, Role: ModelRole.Teacher, Method: "edm" });
        Assert.That(Samples(release), Is.EqualTo(Samples(training)), "a training checkpoint samples its EMA weights, exactly as its export does");

        // What the two kinds of file are for.
        AssertOneLineError(Dk("export", "--model", training, "--out", release), $"dk export: --out {release} already exists; pass --force");
        Assert.That(Dk("export", "--model", training, "--out", release, "--force").Code, Is.EqualTo(0));
        AssertOneLineError(Dk("export", "--model", training, "--out", training), "is the training checkpoint itself");
        AssertOneLineError(Dk("export", "--model", dir.File("absent.safetensors"), "--out", dir.File("x.safetensors")),
            $"dk export: --model {dir.File("absent.safetensors")} does not exist; expected a training checkpoint");
        Assert.That(File.Exists(dir.File("x.safetensors")), Is.False, "nothing written for a missing --model");
        AssertOneLineError(Dk("export", "--model", release, "--out", dir.File("again.safetensors")),
            $"dk export: {release}: a release checkpoint of a teacher (mlp); dk export --model needs a training checkpoint: a release checkpoint holds no training state; start a new run from its weights with dk train --init-from {release}");
        string resumable = dir.File("resume");
        Directory.CreateDirectory(resumable);
        File.Copy(release, Path.Combine(resumable, "model.safetensors"));
        AssertOneLineError(Dk("train", "--out", resumable, "--resume", "--steps", "4"),
            "a release checkpoint of a teacher (mlp); dk train --resume needs a training checkpoint", "dk train --init-from");
        AssertOneLineError(Dk("distill", "diff-instruct", "--teacher", training, "--out", dir.File("di")),
            $"{training}: a training checkpoint of a teacher (mlp; edm run at step 3); a distillation teacher (--teacher) needs a release checkpoint of a teacher: export it first: dk export --model {training}");
    }

    [Test]
    public void AHalfPrecisionExportStoresEveryWeightRoundedAndSamplesClose()
    {
        using var dir = new TempDir();
        string training = Train(dir, "run", "--steps", "3");
        string full = dir.File("f32.safetensors"), half = dir.File("f16.safetensors");
        Assert.That(Dk("export", "--model", training, "--out", full).Code, Is.EqualTo(0));
        var export = Dk("export", "--model", training, "--out", half, "--dtype", "f16");
        Assert.That(export.Code, Is.EqualTo(0), export.Err);
        Assert.That(export.Out, Does.Contain("F16 tensors"));

        Assert.That(SafeTensors.ReadHeader(half).Tensors.Select(t => t.DType), Is.All.EqualTo(DType.F16));
        Assert.That(new FileInfo(half).Length, Is.LessThan(new FileInfo(full).Length * 0.6), "two bytes a weight instead of four");
        using (var scope = Tensor.Scope())
        {
            var wide = SafeTensors.Load(full).Tensors;
            foreach (var (name, tensor) in SafeTensors.Load(half).Tensors)
            {
                float[] expected = wide[name].ToArray().Select(w => (float)(Half)w).ToArray();
                Assert.That(tensor.ToArray(), Is.EqualTo(expected), $"{name}: each weight is its F32 value rounded to the nearest binary16");
            }
        }
        float[] a = Samples(full), b = Samples(half);
        double worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.That(worst, Is.GreaterThan(0).And.LessThan(0.05), "rounded weights move the samples, a little");
        Assert.That(CheckpointKind.Of(half) is { IsTraining: false, Role: ModelRole.Teacher });

        AssertOneLineError(Dk("export", "--model", training, "--out", dir.File("x.safetensors"), "--dtype", "f8"), "--dtype", "f8");
    }

    [Test]
    public void RunsRecordTheirSessionsAndExportCarriesThemWithTheCommit()
    {
        using var dir = new TempDir();
        string training = Train(dir, "run", "--steps", "2");
        Assert.That(Dk("train", "--out", dir.File("run"), "--resume", "--steps", "3").Code, Is.EqualTo(0));
        var sessions = RunProvenance.Sessions(SafeTensors.ReadHeader(training).Metadata);
        Assert.That(sessions.Select(s => s.Command), Is.EqualTo(new[]
        {
            $"dk train --data toy:8gaussians --batch 16 --preview 0 --out {dir.File("run")} --steps 2",
            $"dk train --out {dir.File("run")} --resume --steps 3",
        }));
        Assert.That(sessions.Select(s => s.Commit), Is.All.EqualTo(RunProvenance.Commit));
        Assert.That(RunProvenance.Commit, Does.Match("^([0-9a-f]{40}|unknown)$"));

        string release = dir.File("release.safetensors");
        Assert.That(Dk("export", "--model", training, "--out", release).Code, Is.EqualTo(0));
        var meta = SafeTensors.ReadHeader(release).Metadata;
        Assert.That(RunProvenance.Sessions(meta), Is.EqualTo(sessions));
        Assert.That((meta["method"], meta["step"], meta["data"]), Is.EqualTo(("edm", "3", "toy:8gaussians")));
        Assert.That(meta["source_sha256"], Is.EqualTo(FrozenTeacher.FileSha256(training)));
        var exported = JsonDocument.Parse(meta["exported_by"]).RootElement;
        Assert.That(exported.GetProperty("command").GetString(), Is.EqualTo($"dk export --model {training} --out {release}"));
        Assert.That(exported.GetProperty("commit").GetString(), Is.EqualTo(RunProvenance.Commit));
    }

    [Test]
    public void AWarmStartBeginsFromTheReleaseWeightsWithFreshStateAndSaysSo()
    {
        using var dir = new TempDir();
        string release = dir.File("release.safetensors");
        Assert.That(Dk("export", "--model", Train(dir, "run", "--steps", "3"), "--out", release).Code, Is.EqualTo(0));

        // At a learning rate too small to move any weight, the warm-started run's EMA is the release's weights.
        string warm = dir.File("warm");
        var r = Dk("train", "--data", "toy:8gaussians", "--init-from", release, "--steps", "2", "--batch", "16", "--lr", "1e-30", "--warmup", "0",
            "--preview", "0", "--out", warm);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        Assert.That(Regex.Replace(r.Out, @"\s+", " "), Does.Contain($"warm start from {release}").And.Contain("fresh optimiser state, step 0"));
        string checkpoint = Path.Combine(warm, "model.safetensors");
        var meta = SafeTensors.ReadHeader(checkpoint).Metadata;
        Assert.That((meta["train.step"], meta[RunProvenance.InitFromKey], meta[RunProvenance.InitFromHashKey]),
            Is.EqualTo(("2", release, FrozenTeacher.FileSha256(release))));
        Assert.That(Samples(checkpoint), Is.EqualTo(Samples(release)));

        Assert.That(Dk("train", "--out", warm, "--resume", "--steps", "3").Code, Is.EqualTo(0));
        Assert.That(SafeTensors.ReadHeader(checkpoint).Metadata[RunProvenance.InitFromKey], Is.EqualTo(release), "a resumed warm start still names its source");
        AssertOneLineError(Dk("train", "--data", "toy:8gaussians", "--init-from", checkpoint, "--out", dir.File("w2")),
            "a training checkpoint of a teacher (mlp; edm run at step 3); dk train --init-from needs a release checkpoint of a teacher: export it first");
        AssertOneLineError(Dk("train", "--data", "toy:8gaussians", "--init-from", release, "--model", "mlp", "--out", dir.File("w3")), "--init-from brings its own network");
        AssertOneLineError(Dk("train", "--data", "toy:moons", "--out", warm, "--resume", "--init-from", release), "on --resume", "remove --init-from");
    }
}
