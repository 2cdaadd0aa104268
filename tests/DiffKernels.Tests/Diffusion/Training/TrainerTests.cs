using System.Text.Json;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Training;

public class TrainerTests
{
    private static readonly TrainerOptions Short = new() { Steps = 40, BatchSize = 32, Lr = 3e-3f, WarmupSteps = 5, CheckpointEvery = 0, Seed = 7 };

    private static EdmTrainer NewTrainer(TrainerOptions options, string? outDir = null, IDataSource? data = null) =>
        new(new Mlp(new MlpConfig(Hidden: 32), new Generator(1)), data ?? new ToyDataSource(GaussianMixtureToy.EightGaussians()), options, outDir);

    private static float[] Weights(IReadOnlyDictionary<string, Tensor> state) => state.Values.SelectMany(t => t.ToArray()).ToArray();

    [Test]
    public void ExcessLossOverTheBayesOptimalDenoiserFallsOnEightGaussians()
    {
        var toy = GaussianMixtureToy.EightGaussians();
        var edm = new Edm();
        double HeldOut(INoiseNet net)
        {
            using var _ = Tensor.Scope();
            using var noGrad = Tensor.NoGrad();
            var g = new Generator(99);
            return edm.Loss(net, toy.SampleTensor(4096, g), null, g).Item();
        }
        double best = HeldOut(new MixtureDenoiserNet(edm, toy.Modes));
        using var trainer = new EdmTrainer(new Mlp(new MlpConfig(), new Generator(1)), new ToyDataSource(toy),
            new TrainerOptions { Steps = 200, BatchSize = 64, Lr = 3e-3f, WarmupSteps = 10 });
        double before = HeldOut((INoiseNet)trainer.Model);
        var losses = new List<float>();
        trainer.Run(progress: p => losses.Add((float)p["loss"]));
        double after = HeldOut((INoiseNet)trainer.Model);
        // Measured: optimum 2.38, 4.33 before and 2.80 after (excess 1.94 → 0.42).
        Assert.That(before - best, Is.GreaterThan(1));
        Assert.That(after - best, Is.LessThan((before - best) / 3), $"held-out loss {before} → {after}, optimum {best}");
        Assert.That(after - best, Is.GreaterThan(0), "no network beats the exact denoiser");
        Assert.That(losses.Take(20).Average(), Is.GreaterThan(1.2 * losses.TakeLast(20).Average()));
    }

    [Test]
    public void ResumeMayChangeTheBookkeepingButNotTheRun()
    {
        using var dir = new TempDir();
        var data = new ToyDataSource(GaussianMixtureToy.EightGaussians());
        var full = new List<float>();
        using (var a = NewTrainer(Short)) a.Run(progress: p => full.Add((float)p["loss"]));
        var losses = new List<float>();
        using (var b = NewTrainer(Short with { Steps = 10 }, dir.Path)) b.Run(progress: p => losses.Add((float)p["loss"]));
        string path = dir.File(EdmTrainer.CheckpointFile);

        var e = Assert.Throws<ArgumentException>(() => EdmTrainer.Resume(path, data, bookkeeping: o => o with { Lr = 1e-2f }));
        Assert.That(e!.Message, Does.Contain("only the step count, checkpoint and log intervals, preview size and quality curve may change"));
        using var c = EdmTrainer.Resume(path, data, steps: 40, bookkeeping: o => o with { CheckpointEvery = 15, LogEvery = 5 });
        Assert.That((c.Options.CheckpointEvery, c.Options.LogEvery), Is.EqualTo((15, 5)));
        c.Run(progress: p => losses.Add((float)p["loss"]));
        Assert.That(losses, Is.EqualTo(full), "the same loss curve");
        Assert.That(SafeTensors.ReadHeader(path).Metadata["train.step"], Is.EqualTo("40"));
    }

    [Test]
    public void CheckpointHoldsEmaWeightsForSamplingAndTheLogHasOneLinePerInterval()
    {
        using var dir = new TempDir();
        using var t = NewTrainer(Short with { Steps = 25, LogEvery = 10, CheckpointEvery = 10 }, dir.Path);
        t.Run();
        Assert.That(dir.Entries(), Is.EqualTo(new[] { EdmTrainer.LogFile, EdmTrainer.CheckpointFile }));
        using var loaded = ModelFactory.Load(dir.File(EdmTrainer.CheckpointFile));
        Assert.That(Weights(loaded.Model.StateDict()), Is.EqualTo(Weights(t.EmaWeights)));
        Assert.That(Weights(loaded.Model.StateDict()), Is.Not.EqualTo(Weights(t.Model.StateDict())), "EMA lags the raw weights");
        var meta = SafeTensors.ReadHeader(dir.File(EdmTrainer.CheckpointFile)).Metadata;
        Assert.That(meta["train.data"], Is.EqualTo("toy:8gaussians"));
        Assert.That(TrainerOptions.FromJson(meta["train.options"]), Is.EqualTo(t.Options));

        var lines = File.ReadAllLines(dir.File(EdmTrainer.LogFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 10, 20, 25 }));
        foreach (var l in lines)
        {
            Assert.That(l.GetProperty("loss").GetDouble(), Is.GreaterThan(0));
            Assert.That(l.GetProperty("lr").GetDouble(), Is.GreaterThan(0));
            Assert.That(l.GetProperty("samples_per_s").GetDouble(), Is.GreaterThan(0));
        }
    }

    [Test]
    public void PreviewsAreWrittenAtEachCheckpoint()
    {
        using var dir = new TempDir();
        using var t = NewTrainer(Short with { Steps = 10, CheckpointEvery = 5, PreviewSamples = 64 }, dir.Path);
        t.Run();
        Assert.That(dir.Entries(), Is.EqualTo(new[] { EdmTrainer.LogFile, EdmTrainer.CheckpointFile, "samples-0000005.png", "samples-0000010.png" }));
        using var image = SixLabors.ImageSharp.Image.Load(dir.File("samples-0000010.png"));
        Assert.That(image.Width, Is.EqualTo(512));
    }

    [Test]
    public void ResumeRejectsOtherDataAndFinishedRuns()
    {
        using var dir = new TempDir();
        using (var t = NewTrainer(Short with { Steps = 3 }, dir.Path)) t.Run();
        string path = dir.File(EdmTrainer.CheckpointFile);
        var e = Assert.Throws<ArgumentException>(() => EdmTrainer.Resume(path, new ToyDataSource(new CheckerboardToy())));
        Assert.That(e!.Message, Does.Contain("toy:8gaussians").And.Contain("toy:checkerboard"));
        Assert.Throws<ArgumentException>(() => EdmTrainer.Resume(path, new ToyDataSource(GaussianMixtureToy.EightGaussians()), steps: 2));
        using var scope = Tensor.Scope();
        string plain = dir.File("plain.safetensors");
        using (var m = new Mlp(new MlpConfig(Hidden: 4))) ModelFactory.Save(plain, m);
        Assert.Throws<SafeTensorsFormatException>(() => EdmTrainer.Resume(plain, new ToyDataSource(GaussianMixtureToy.EightGaussians())));
    }

    /// <summary>A conditional network that records the labels it is given.</summary>
    private sealed class LabelSpy : Module, INoiseNet
    {
        private readonly Tensor _w = Tensor.Zeros([1]);

        public LabelSpy() => RegisterParameter("w", _w);

        public List<float> Seen { get; } = [];

        public int NumClasses => 4;

        public Shape SampleShape => [2];

        public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
        {
            Seen.AddRange(labels!.ToArray());
            return DiffKernels.Ops.F.Mul(x, _w);
        }
    }

    private sealed class LabelledSource : IDataSource
    {
        public string Name => "labelled";

        public Shape SampleShape => [2];

        public int NumClasses => 4;

        public DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null) =>
            new(gen.Normal([batchSize, 2], device), Tensor.FromArray(Enumerable.Range(0, batchSize).Select(i => (float)(i % 4)).ToArray()));
    }

    [Test]
    public void LabelDropoutReplacesAboutOneLabelInTenByMinusOne()
    {
        using var spy = new LabelSpy();
        using var t = new EdmTrainer(spy, new LabelledSource(), Short with { Steps = 50, BatchSize = 100 });
        t.Run();
        Assert.That(spy.Seen, Has.Count.EqualTo(5000));
        double dropped = spy.Seen.Count(l => l == -1) / 5000.0;
        Assert.That(dropped, Is.EqualTo(0.1).Within(0.015));
        Assert.That(spy.Seen.Where((l, i) => l != -1 && l != i % 4), Is.Empty, "kept labels are unchanged");
    }

    [Test]
    public void OptionsAreValidatedAndShapesMustMatch()
    {
        Assert.Throws<ArgumentException>(() => NewTrainer(Short with { BatchSize = 0 }));
        Assert.Throws<ArgumentException>(() => NewTrainer(Short with { LabelDropout = 1 }));
        Assert.Throws<ArgumentException>(() => new EdmTrainer(new Mlp(new MlpConfig(Dim: 3)), new ToyDataSource(new CheckerboardToy()), Short));
        Assert.Throws<ArgumentException>(() => new EdmTrainer(new Mlp(new MlpConfig(NumClasses: 2)), new ToyDataSource(new CheckerboardToy()), Short));
        Assert.That(TrainerOptions.FromJson(Short.ToJson()), Is.EqualTo(Short));
    }

    [Test]
    public void OptionsWrittenBeforeTheHalfLifeWasRenamedStillRead()
    {
        // Teachers saved the EMA half-life as ema_half_life_images; every run kind now writes ema_half_life_samples.
        var old = TrainerOptions.FromJson("{\"steps\":40,\"batch_size\":32,\"lr\":0.003,\"ema_half_life_images\":1234,\"seed\":7}");
        Assert.That((old.EmaHalfLifeSamples, old.Steps, old.BatchSize, old.Lr, old.Seed), Is.EqualTo(((double?)1234, 40, 32, 3e-3f, 7UL)));
        string json = old.ToJson();
        Assert.That(json, Does.Contain("\"ema_half_life_samples\":1234").And.Not.Contain("ema_half_life_images"));
        Assert.That(json, Does.Not.Contain("label\"").And.Not.Contain("resumable"), "only settings are stored");
    }
}
