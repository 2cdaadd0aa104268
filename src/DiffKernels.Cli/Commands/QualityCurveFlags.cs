using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The quality-curve flags every run command shares: --fd-every N measures, every N iterations and at the run's last,
/// the network the run would release as `dk eval` scores it with --n M (--fd-n) and no sampler flags: FD against the
/// Fashion-MNIST test set with the metric classifier (--classifier, found as `dk eval` finds it; the test set in
/// --data-dir) on Fashion-MNIST runs, SW₂ against the toy on toy runs; other data is refused. The settings are the run's
/// (a resume keeps them; --fd-every and --fd-n may change them, --fd-every 0 ends the curve).
/// </summary>
internal sealed class QualityCurveFlags
{
    private static readonly QualityCurveOptions Defaults = new();

    /// <summary>The flags, reading the test set from <paramref name="dataDir"/> (the command's --data-dir; null: a --data-dir of their own).</summary>
    public QualityCurveFlags(Option<string>? dataDir)
    {
        Every = new Option<int>("--fd-every")
        {
            Description = "Quality curve: every N iterations and at the last, FD of the network the run would release against the Fashion-MNIST test set (SW₂ on toys), logged and plotted (fd.png); costs --fd-n × its sampler's NFE network evaluations (0: none)",
            DefaultValueFactory = _ => 0,
        };
        Every.AtLeast(0, "0: no curve");
        Samples = new Option<int>("--fd-n") { Description = "Quality curve: samples per measurement", DefaultValueFactory = _ => Defaults.Samples };
        Samples.Check(v => v < 2 ? $"--fd-n {v} must be ≥ 2 (a Fréchet distance needs two samples)"
            : v > QualityCurveOptions.MaxSamples ? DiffusionCli.Inv($"--fd-n {v}: at most {QualityCurveOptions.MaxSamples:N0}") : null);
        ClassifierPath = new Option<string>("--classifier") { Description = "Quality curve: the metric classifier of FD", DefaultValueFactory = _ => EvalCommand.DefaultClassifier };
        OwnDataDir = dataDir == null;
        DataDir = dataDir ?? DiffusionCli.FashionDirOption();
    }

    /// <summary>--fd-every.</summary>
    public Option<int> Every { get; }

    /// <summary>--fd-n.</summary>
    public Option<int> Samples { get; }

    /// <summary>--classifier.</summary>
    public Option<string> ClassifierPath { get; }

    /// <summary>--data-dir: the command's own, or these flags' where it has none.</summary>
    public Option<string> DataDir { get; }

    private bool OwnDataDir { get; }

    /// <summary>The flags a command lists (its own --data-dir is listed with its flags).</summary>
    public Option[] All => OwnDataDir ? [Every, Samples, ClassifierPath, DataDir] : [Every, Samples, ClassifierPath];

    /// <summary>The curve of a new run (null without --fd-every).</summary>
    public QualityCurveOptions? ForNewRun(ParseResult parse) => Resolve(parse, null);

    /// <summary>The curve of a resumed run: <paramref name="recorded"/> with --fd-every and --fd-n where given.</summary>
    public QualityCurveOptions? ForResume(ParseResult parse, QualityCurveOptions? recorded) => Resolve(parse, recorded);

    private QualityCurveOptions? Resolve(ParseResult parse, QualityCurveOptions? recorded)
    {
        int? every = RunCommand.Given(parse, Every) ? parse.GetValue(Every) : recorded?.Every;
        if (every is null or 0)
        {
            var stray = new Option[] { Samples, ClassifierPath }.Where(o => RunCommand.Given(parse, o)).Select(o => o.Name).ToList();
            if (stray.Count > 0) throw new ArgumentException($"{string.Join(" and ", stray)} set{(stray.Count == 1 ? "s" : "")} the quality curve; add --fd-every N");
            return null;
        }
        return (recorded ?? Defaults) with
        {
            Every = every.Value,
            Samples = RunCommand.Given(parse, Samples) ? parse.GetValue(Samples) : recorded?.Samples ?? parse.GetValue(Samples),
        };
    }

    /// <summary>
    /// Gives <paramref name="run"/>, which has a curve, its probe, chosen by the data its checkpoints record (as `dk eval`
    /// chooses): the classifier and the test set's features are loaded now, so a missing file stops the command before
    /// training. Returns what the probe holds, for the caller to dispose after the run.
    /// </summary>
    public IDisposable? Attach(ParseResult parse, ITrainingRun run, IAnsiConsole console)
    {
        var curve = run.QualityCurve!;
        using var release = run.Release();
        string spec = CheckpointKind.DataSpec(release.Metadata) is { } recorded ? ImageSubset.Whole(recorded)
            : throw new ArgumentException("--fd-every: the run records no data to score against");
        Classifier? classifier = null;
        try
        {
            QualityProbe probe;
            string against;
            if (ToyDataSource.IsToySpec(spec))
            {
                probe = QualityProbe.Toy(ToyDataSource.FromSpec(spec).Toy);
                probe.Check(release);
                against = $"SW₂ to fresh samples of {spec}";
            }
            else if (spec == ImageDataSource.FashionSpec || spec.StartsWith(ImageDataSource.FashionSpec + ":", StringComparison.Ordinal))
            {
                string path = parse.GetValue(ClassifierPath)!;
                if (!File.Exists(path))
                    throw new ArgumentException($"--fd-every: metric classifier {path} not found; pass --classifier PATH (train one with dk train-classifier)");
                classifier = Classifier.Load(path);
                var evaluator = DiffusionCli.Evaluator(classifier, parse.GetValue(DataDir)!);
                probe = QualityProbe.Images(evaluator);
                probe.Check(release);
                console.MarkupLine(Markup.Escape("quality curve: features of the Fashion-MNIST test set (cached for the run)"));
                evaluator.PrepareTestFeatures();
                against = $"FD to the Fashion-MNIST test set in {path}'s features";
            }
            else
            {
                throw new ArgumentException($"--fd-every: the quality curve scores Fashion-MNIST runs (FD) and toy runs (SW₂); this run draws '{spec}'");
            }
            var sampler = probe.Options(release);
            console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                $"quality curve {(curve.Every == 1 ? "at every iteration" : $"every {curve.Every} iterations")} and at the last: {against}, {curve.Samples:N0} samples ({sampler.Kind.ToString().ToLowerInvariant()}, {sampler.Nfe} NFE: {(long)curve.Samples * sampler.Nfe:N0} network evaluations each), logged as \"{probe.Metric}\", plotted in {QualityCurveLog.PlotFile(probe.Metric)}")));
            run.Probe = probe;
            return classifier;
        }
        catch
        {
            classifier?.Dispose();
            throw;
        }
    }
}
