using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Training;

/// <summary>
/// The quality curve beyond what every run kind owes (<see cref="RunContractTests"/>): an image run's FD is the score of
/// its checkpoint as loaded for evaluation, a resume redraws the plot from the log it truncated, a failed measurement
/// logs null and the run goes on, and bad settings are refused.
/// </summary>
public class QualityCurveTests
{
    private static readonly QualityProbe Toy = QualityProbe.Toy(GaussianMixtureToy.EightGaussians());

    private static TrainerOptions ToyOptions(int steps, QualityCurveOptions? curve) =>
        new() { Steps = steps, BatchSize = 32, Lr = 3e-3f, WarmupSteps = 2, LogEvery = 1, CheckpointEvery = 0, Seed = 7, QualityCurve = curve };

    private static ToyDataSource ToyData => new(GaussianMixtureToy.EightGaussians());

    private static List<JsonObject> Lines(string dir) =>
        File.ReadAllLines(Path.Combine(dir, RunLoop.LogFile)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Test]
    public void AnImageRunsFdIsWhatItsCheckpointScoresAsLoadedForEvaluation()
    {
        using var dir = new TempDir();
        string data = FakeFashion.Write(dir);
        using var clf = Classifier.Load(FakeFashion.TinyClassifier(dir));
        var probe = QualityProbe.Images(new FrechetEvaluator(clf, data));
        var net = new UNet(new UNetConfig(32, 1, 4, [1, 2], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16, NumClasses: 10), new Generator(4));
        var options = new TrainerOptions
        {
            Steps = 2, BatchSize = 4, WarmupSteps = 0, LogEvery = 1, QualityCurve = new QualityCurveOptions { Every = 1, Samples = 6 },
        };
        string run = dir.File("run");
        string checkpoint;
        using (var trainer = new EdmTrainer(net, ImageDataSource.FromSpec(ImageDataSource.FashionSpec, data)!, options, run) { SamplingDefaults = new SamplerDefaults(Steps: 3) })
        {
            trainer.Probe = probe;
            trainer.Run();
            checkpoint = trainer.CheckpointPath!;
        }
        var fd = Lines(run).Where(o => o.ContainsKey(QualityProbe.Fd)).ToList();
        Assert.That(fd.Select(o => ((long)o["step"]!, (int)o["fd_n"]!)), Is.EqualTo(new[] { (1L, 6), (2L, 6) }));
        Assert.That(fd.Select(o => (double)o["fd"]!), Has.All.GreaterThan(0.0));
        using var model = PretrainedModel.Load(checkpoint);
        Assert.That(probe.Options(model).Nfe, Is.EqualTo(5), "the run's own sampler: Heun on the 3 levels it records");
        Assert.That(probe.Measure(model, 6), Is.EqualTo((double)fd[^1]["fd"]!), "the network it would release, as its checkpoint loads");
        Assert.That(File.Exists(Path.Combine(run, QualityCurveLog.PlotFile(QualityProbe.Fd))));
    }

    [Test]
    public void AResumeRedrawsThePlotFromTheLogAsItTruncatedIt()
    {
        using var dir = new TempDir();
        var curve = new QualityCurveOptions { Every = 1, Samples = 32 };
        string checkpoint;
        using (var run = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), ToyData, ToyOptions(3, curve), dir.Path))
        {
            run.Probe = Toy;
            run.Run();
            checkpoint = run.CheckpointPath!;
        }
        // A run killed after its checkpoint at 3 had measured and plotted two more points.
        string log = dir.File(RunLoop.LogFile), plot = dir.File(QualityCurveLog.PlotFile(QualityProbe.Sw2));
        File.AppendAllLines(log, ["{\"step\":4,\"sw2\":1000,\"sw2_n\":32}", "{\"step\":5,\"sw2\":0.001,\"sw2_n\":32}"]);
        QualityCurveLog.Draw(log, QualityProbe.Sw2, plot);
        var killed = File.ReadAllBytes(plot);

        using (var resumed = EdmTrainer.Resume(checkpoint, ToyData))
        {
            resumed.Probe = Toy;
            resumed.Run();
        }
        Assert.That(QualityCurveLog.Read(log, QualityProbe.Sw2).Select(p => p.Step), Is.EqualTo(new long[] { 1, 2, 3 }));
        QualityCurveLog.Draw(log, QualityProbe.Sw2, dir.File("expected.png"));
        Assert.That(File.ReadAllBytes(plot), Is.EqualTo(File.ReadAllBytes(dir.File("expected.png"))), "the plot of the truncated log");
        Assert.That(File.ReadAllBytes(plot), Is.Not.EqualTo(killed));
    }

    [Test]
    public void AMeasurementWhoseSamplesAreNotFiniteLogsNullWithAWarningAndTheRunGoesOn()
    {
        using var dir = new TempDir();
        var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        // Finite weights so large that every output overflows: the samples are not finite, and no update applies.
        var (name, first) = net.NamedParameters().First();
        net.LoadStateDict(new Dictionary<string, Tensor>(net.StateDict()) { [name] = Tensor.Full(first.Shape, float.MaxValue / 4, first.Device) });
        var warnings = new List<string>();
        using (var run = new EdmTrainer(net, ToyData, ToyOptions(2, new QualityCurveOptions { Every = 1, Samples = 8 }), dir.Path))
        {
            run.Probe = Toy;
            run.OnWarning = warnings.Add;
            Assert.That(run.Run().Step, Is.EqualTo(2));
        }
        var measured = Lines(dir.Path).Where(o => o.ContainsKey(QualityProbe.Sw2)).ToList();
        Assert.That(measured.Select(o => (long)o["step"]!), Is.EqualTo(new long[] { 1, 2 }));
        Assert.That(measured.Select(o => o[QualityProbe.Sw2]), Is.All.Null);
        Assert.That(warnings.Where(w => w.Contains("sw2 not measured")).ToList(), Has.Count.EqualTo(2).And.All.Contain("NaN or infinite"));
        Assert.That(QualityCurveLog.Read(dir.File(RunLoop.LogFile), QualityProbe.Sw2), Is.Empty);
    }

    [Test]
    public void BadSettingsAndAMissingProbeAreRefused()
    {
        Assert.That(() => ToyOptions(2, new QualityCurveOptions { Every = 0 }).Validate(),
            Throws.ArgumentException.With.Message.EqualTo("trainer: quality-curve interval 0 must be ≥ 1"));
        Assert.That(() => ToyOptions(2, new QualityCurveOptions { Samples = 1 }).Validate(),
            Throws.ArgumentException.With.Message.EqualTo("trainer: quality-curve samples 1 must lie in 2 to 60,000"));
        Assert.That(() => ToyOptions(2, new QualityCurveOptions { Samples = 60_001 }).Validate(), Throws.ArgumentException.With.Message.Contains("60001"));

        using var dir = new TempDir();
        using var run = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), ToyData, ToyOptions(2, new QualityCurveOptions()), dir.Path);
        Assert.That(() => run.Run(), Throws.InvalidOperationException.With.Message.Contains("set Probe"));
        using var quiet = new EdmTrainer(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), ToyData, ToyOptions(2, new QualityCurveOptions()));
        Assert.That(quiet.Run().Step, Is.EqualTo(2), "a run that writes no files measures nothing");
    }
}
