using System.CommandLine;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk quickstart`: the first thing to run on a fresh machine. Trains an Mlp teacher on 8 Gaussians (about a
/// minute on 2 cores), samples it at 35 NFE with Heun, writes a scatter PNG and metrics JSON, and ends with a
/// table holding one row per model.
/// </summary>
internal static class QuickstartCommand
{
    private const string Toy = "8gaussians";

    /// <summary>One row of the closing table.</summary>
    private sealed record Row(string Model, string Data, int Nfe, double MsPerSample, string Metric, string Score, string Floor, string Notes);

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Output directory", DefaultValueFactory = _ => "runs/quickstart" };
        var steps = new Option<int>("--steps") { Description = "Training steps of the toy teacher", DefaultValueFactory = _ => 3000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of training and sampling", DefaultValueFactory = _ => 0UL };
        var samples = new Option<int>("--samples") { Description = "Samples drawn to score each model", DefaultValueFactory = _ => 10_000 };
        var cmd = new Command("quickstart", "Train and sample a toy teacher, then print what every model scores") { output, steps, seed, samples };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("quickstart", parseResult.InvocationConfiguration.Error, () =>
            {
                string outDir = parseResult.GetValue(output)!;
                Directory.CreateDirectory(outDir);
                var rows = new List<Row>();
                var toyRow = ToyTeacher(console, outDir, parseResult.GetValue(steps), parseResult.GetValue(seed), parseResult.GetValue(samples));
                if (toyRow == null) return DiffusionCli.Interrupted;
                rows.Add(toyRow);
                // Each further stage (the committed Fashion-MNIST teacher, then every distilled student) adds its row here.
                console.Write(Summary(rows));
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
        foreach (var stale in Directory.EnumerateFiles(dir, "samples-*.png")) File.Delete(stale);

        var source = new ToyDataSource(ToyDistribution.FromName(Toy));
        var options = new TrainerOptions
        {
            Steps = steps, BatchSize = 512, Lr = 2e-3f, WarmupSteps = 100, EmaHalfLifeImages = 250_000,
            CheckpointEvery = 0, LogEvery = 50, Seed = seed, PreviewSamples = 2000,
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

    private static Table Summary(IEnumerable<Row> rows)
    {
        var t = new Table { Title = new TableTitle("quickstart") }
            .AddColumn("model").AddColumn("data").AddColumn(new TableColumn("NFE").RightAligned())
            .AddColumn(new TableColumn("ms/sample").RightAligned()).AddColumn("metric")
            .AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("floor").RightAligned()).AddColumn("notes");
        foreach (var r in rows)
            t.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Data), r.Nfe.ToString(System.Globalization.CultureInfo.InvariantCulture),
                DiffusionCli.Inv($"{r.MsPerSample:F3}"), Markup.Escape(r.Metric), r.Score, r.Floor, Markup.Escape(r.Notes));
        return t;
    }
}
