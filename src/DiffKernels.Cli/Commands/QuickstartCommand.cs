using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk quickstart`: the first thing to run on a fresh machine. Trains an Mlp teacher on 8 Gaussians (about a
/// minute on 2 cores), samples it at 35 NFE with Heun, writes a scatter PNG and metrics JSON; then samples the
/// committed Fashion-MNIST teacher (a PNG grid, and FD against the test set when the data set is installed);
/// and ends with a table holding one row per model. A missing teacher, classifier or data set is reported in
/// the table, not treated as a failure.
/// </summary>
internal static class QuickstartCommand
{
    private const string Toy = "8gaussians";

    /// <summary>The committed Fashion-MNIST teacher (relative to the working directory).</summary>
    public const string FashionTeacherPath = "models/fmnist-teacher-xs.safetensors";

    /// <summary>One row of the closing table.</summary>
    private sealed record Row(string Model, string Data, int Nfe, double MsPerSample, string Metric, string Score, string Floor, string Notes);

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => "runs/quickstart" };
        var steps = new Option<int>("--steps") { Description = "Training steps of the toy teacher", DefaultValueFactory = _ => 6000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of training and sampling", DefaultValueFactory = _ => 0UL };
        var samples = new Option<int>("--samples") { Description = "Samples drawn to score the toy teacher", DefaultValueFactory = _ => 10_000 };
        var fashionModel = new Option<string>("--fmnist-model") { Description = "The Fashion-MNIST teacher to sample", DefaultValueFactory = _ => FashionTeacherPath };
        var fashionSamples = new Option<int>("--fmnist-samples") { Description = "Images drawn from the Fashion-MNIST teacher (FD is biased upwards at small N; the floor is given at the same N)", DefaultValueFactory = _ => 1000 };
        var classifier = new Option<string>("--classifier") { Description = "Metric classifier for the Fashion-MNIST FD", DefaultValueFactory = _ => EvalCommand.DefaultClassifier };
        var dataDir = DiffusionCli.FashionDirOption();
        var cmd = new Command("quickstart", "Train and sample a toy teacher, sample the Fashion-MNIST teacher, then print what every model scores")
        {
            output, steps, seed, samples, fashionModel, fashionSamples, classifier, dataDir,
        };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("quickstart", parseResult.InvocationConfiguration.Error, () =>
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                string outDir = parseResult.GetValue(output)!;
                Directory.CreateDirectory(outDir);
                var rows = new List<Row>();
                var toyRow = ToyTeacher(console, outDir, parseResult.GetValue(steps), parseResult.GetValue(seed), parseResult.GetValue(samples));
                if (toyRow == null) return DiffusionCli.Interrupted;
                rows.Add(toyRow);
                rows.Add(FashionTeacher(console, outDir, parseResult.GetValue(fashionModel)!, parseResult.GetValue(fashionSamples),
                    parseResult.GetValue(classifier)!, parseResult.GetValue(dataDir)!, parseResult.GetValue(seed)));
                // Each distilled student adds its row here.
                console.Write(Summary(rows));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv($"quickstart took {watch.Elapsed.TotalSeconds:F0} s")));
                return 0;
            });
        });
        return cmd;
    }

    /// <summary>Trains, samples and scores the toy teacher; null when interrupted by Ctrl-C.</summary>
    private static Row? ToyTeacher(IAnsiConsole console, string outDir, int steps, ulong seed, int evalSamples)
    {
        string dir = Path.Combine(outDir, $"toy-{Toy}-teacher");
        Directory.CreateDirectory(dir);
        // A quickstart starts over: the previous run's checkpoint and log would otherwise be resumed or appended to.
        foreach (var stale in new[] { EdmTrainer.CheckpointFile, EdmTrainer.LogFile }) File.Delete(Path.Combine(dir, stale));

        var source = new ToyDataSource(ToyDistribution.FromName(Toy));
        var options = new TrainerOptions
        {
            Steps = steps, BatchSize = 512, Lr = 2e-3f, WarmupSteps = 100, EmaHalfLifeImages = 250_000,
            CheckpointEvery = 0, LogEvery = 50, Seed = seed,
        };
        console.Write(new Rule(Markup.Escape($"1. Mlp teacher on toy:{Toy}")).LeftJustified());
        console.MarkupLine(Markup.Escape($"training {steps} steps at batch {options.BatchSize} into {dir}"));
        using var trainer = new EdmTrainer(ModelFactory.FromPreset("mlp", source.SampleShape, 0, new Generator(seed)), source, options, dir);
        using (var ctrlC = DiffusionCli.HookCtrlC())
        {
            var result = TrainingProgressView.Run(console, trainer, ctrlC.Token);
            if (result.Interrupted)
            {
                console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}"));
                return null;
            }
        }

        using var teacher = ModelFactory.Load(trainer.CheckpointPath!);
        teacher.Model.Eval();
        var (report, samples) = ToyEvaluation.Evaluate(teacher.Net, trainer.Edm, source.Toy, evalSamples, new SamplerOptions(Seed: seed));
        string png = Path.Combine(outDir, $"toy-{Toy}-teacher.png");
        string json = Path.Combine(outDir, $"toy-{Toy}-teacher.json");
        ToyScatterPlot.Save(png, samples, ToyEvaluation.DensitySample(source.Toy), source.Toy.Modes);
        File.WriteAllText(json, EvalCommand.Json(trainer.CheckpointPath!, report));
        console.Write(EvalCommand.Table(trainer.CheckpointPath!, report));
        console.MarkupLine(Markup.Escape($"wrote {png} and {json}"));
        var c = report.Coverage!;
        return new Row("Mlp teacher (EDM, Heun)", $"toy:{Toy}", report.Nfe, report.MsPerSample, "sliced W2",
            DiffusionCli.Inv($"{report.SlicedWasserstein:F4}"), DiffusionCli.Inv($"{report.Floor:F4}"),
            DiffusionCli.Inv($"{c.Covered}/{c.Total} modes, {c.OffModeFraction:P1} off-mode"));
    }

    /// <summary>
    /// Samples the Fashion-MNIST teacher at its default sampler (Heun, 35 NFE), writes the grid, and scores the
    /// images when the classifier and the data set are there. Whatever is missing becomes the row's note.
    /// </summary>
    private static Row FashionTeacher(IAnsiConsole console, string outDir, string modelPath, int n, string classifierPath, string dataDir, ulong seed)
    {
        const string Name = "UNet-XS teacher (EDM, Heun)";
        console.Write(new Rule(Markup.Escape("2. Fashion-MNIST teacher")).LeftJustified());
        if (!File.Exists(modelPath))
        {
            string note = $"skipped: no teacher at {modelPath} (train one with dk train --data fmnist)";
            console.MarkupLine(Markup.Escape(note));
            return new Row(Name, "fmnist", 0, double.NaN, "FD", "—", "—", note);
        }
        if (n < 2) throw new ArgumentException($"--fmnist-samples {n} must be ≥ 2");
        using var loaded = ModelFactory.Load(modelPath);
        loaded.Model.Eval();
        var options = SampleCommand.Options(loaded, null, null, seed, 250);
        int crop = SampleCommand.Crop(loaded.Metadata);
        var edm = Edm.FromMetadata(loaded.Metadata);
        string png = Path.Combine(outDir, "fmnist-teacher.png");
        string? missing = !File.Exists(classifierPath) ? $"FD skipped: no metric classifier at {classifierPath}"
            : FashionTestSetMissing(dataDir) is { } why ? $"FD skipped: {why}" : null;
        console.MarkupLine(Markup.Escape(DiffusionCli.Inv($"sampling {n} images from {modelPath} ({options.Kind.ToString().ToLowerInvariant()}, {options.Nfe} NFE)")));
        using var scope = Tensor.Scope();
        if (missing != null)
        {
            var result = DiffusionSampler.Generate(loaded.Net, edm, n, options);
            SampleCommand.WriteGrid(png, result.Samples, crop);
            console.MarkupLine(Markup.Escape($"{missing}; wrote {png}"));
            return new Row(Name, "fmnist", result.Nfe, result.MsPerSample, "FD", "—", "—", DiffusionCli.Inv($"N = {n}; {missing}"));
        }
        using var clf = Classifier.Load(classifierPath);
        var (report, samples) = ImageEvaluation.Evaluate(loaded.Net, edm, DiffusionCli.Evaluator(clf, dataDir), n, options, crop);
        SampleCommand.WriteGrid(png, samples, crop);
        string json = Path.Combine(outDir, "fmnist-teacher.json");
        File.WriteAllText(json, EvalCommand.Json(modelPath, report));
        console.Write(EvalCommand.Table(modelPath, report));
        console.MarkupLine(Markup.Escape($"wrote {png} and {json}"));
        var m = report.Metrics;
        return new Row(Name, "fmnist", report.Nfe, report.MsPerSample, "FD", DiffusionCli.Inv($"{m.Fd:F3}"), DiffusionCli.Inv($"{report.Floor:F3}"),
            DiffusionCli.Inv($"N = {n} (floor at the same N); precision {m.Precision:F2}, recall {m.Recall:F2}, class entropy {m.Classes.NormalisedEntropy:F3}"));
    }

    /// <summary>Why the Fashion-MNIST test set cannot be read from <paramref name="dataDir"/>, or null when it can.</summary>
    private static string? FashionTestSetMissing(string dataDir)
    {
        try
        {
            FashionMnist.Load(FashionSplit.Test, dataDir, limit: 1);
            FashionMnist.Load(FashionSplit.Train, dataDir, limit: 1);
            return null;
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    private static Table Summary(IEnumerable<Row> rows)
    {
        var t = new Table { Title = new TableTitle("quickstart") }
            .AddColumn("model").AddColumn("data").AddColumn(new TableColumn("NFE").RightAligned())
            .AddColumn(new TableColumn("ms/sample").RightAligned()).AddColumn("metric")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("floor").RightAligned()).AddColumn("notes");
        foreach (var r in rows)
            t.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Data), r.Nfe > 0 ? r.Nfe.ToString(System.Globalization.CultureInfo.InvariantCulture) : "—",
                double.IsNaN(r.MsPerSample) ? "—" : DiffusionCli.Inv($"{r.MsPerSample:F3}"), Markup.Escape(r.Metric), r.Score, r.Floor, Markup.Escape(r.Notes));
        return t;
    }
}
