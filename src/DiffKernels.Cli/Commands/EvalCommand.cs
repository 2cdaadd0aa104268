using System.CommandLine;
using System.Text.Json;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Data.Toys;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk eval --model PATH [--data toy:NAME]`: samples a model and scores it against its data. For toys: sliced
/// Wasserstein to a fresh data sample, the same distance between two fresh data samples (the floor), mode
/// coverage, off-mode fraction, NFE and ms/sample.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors)", Required = true };
        var data = new Option<string?>("--data") { Description = "Data to score against: toy:NAME (default: what the model was trained on)" };
        var n = new Option<int>("--n") { Description = "Samples from the model and from each data sample", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the samples, data samples and projections", DefaultValueFactory = _ => 0UL };
        var sampler = new Option<string?>("--sampler") { Description = "heun, euler or ddim (default: the model's own, else heun)" };
        var steps = new Option<int?>("--steps") { Description = "Noise levels (default: the model's own, else 18: 35 evaluations with heun)" };
        var png = new Option<string?>("--png") { Description = "Write the scatter plot of the samples over the density" };
        var json = new Option<string?>("--json") { Description = "Write the metrics as JSON" };
        var cmd = new Command("eval", "Score a model against its data") { model, data, n, seed, sampler, steps, png, json };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("eval", parseResult.InvocationConfiguration.Error, () =>
            {
                string path = parseResult.GetValue(model)!;
                using var loaded = ModelFactory.Load(path);
                string spec = parseResult.GetValue(data) ?? loaded.Metadata.GetValueOrDefault("train.data")
                    ?? throw new ArgumentException($"{path} does not record its training data; pass --data");
                if (!ToyDataSource.IsToySpec(spec)) throw new ArgumentException($"dk eval scores toys (toy:NAME); '{spec}' is not one");
                var toy = ToyDataSource.FromSpec(spec).Toy;
                int count = parseResult.GetValue(n);
                if (count < 2) throw new ArgumentException($"--n {count} must be ≥ 2");
                var options = SampleCommand.Options(loaded, parseResult.GetValue(sampler), parseResult.GetValue(steps), parseResult.GetValue(seed), 1024);
                loaded.Model.Eval();
                var (report, samples) = ToyEvaluation.Evaluate(loaded.Net, Edm.FromMetadata(loaded.Metadata), toy, count, options);
                console.Write(Table(path, report));
                if (parseResult.GetValue(png) is { } pngPath)
                {
                    ToyScatterPlot.Save(pngPath, samples, ToyEvaluation.DensitySample(toy), toy.Modes.Count > 0 ? toy.Modes : null);
                    console.MarkupLine(Markup.Escape($"wrote {pngPath}"));
                }
                if (parseResult.GetValue(json) is { } jsonPath)
                {
                    File.WriteAllText(jsonPath, Json(path, report));
                    console.MarkupLine(Markup.Escape($"wrote {jsonPath}"));
                }
                return 0;
            });
        });
        return cmd;
    }

    /// <summary>The report as a two-column table.</summary>
    public static Table Table(string model, ToyReport r)
    {
        var t = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        t.Title = new TableTitle(Markup.Escape($"{Path.GetFileName(model)} on toy:{r.Toy}"));
        void Row(string name, string value) => t.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("samples", DiffusionCli.Inv($"{r.Samples:N0}"));
        Row("sampler", DiffusionCli.Inv($"{r.Sampler.ToString().ToLowerInvariant()}, {r.Nfe} NFE"));
        Row("sliced W2 to fresh data", DiffusionCli.Inv($"{r.SlicedWasserstein:F4}"));
        Row("floor (data vs data)", DiffusionCli.Inv($"{r.Floor:F4}"));
        Row("ratio to floor", DiffusionCli.Inv($"{r.FloorRatio:F2}x"));
        if (r.Coverage is { } c)
        {
            Row("modes covered", DiffusionCli.Inv($"{c.Covered}/{c.Total}"));
            Row("off-mode fraction", DiffusionCli.Inv($"{c.OffModeFraction:P2}"));
        }
        Row("ms/sample", DiffusionCli.Inv($"{r.MsPerSample:F4}"));
        return t;
    }

    /// <summary>The report as one JSON object.</summary>
    public static string Json(string model, ToyReport r) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["model"] = model,
        ["data"] = "toy:" + r.Toy,
        ["samples"] = r.Samples,
        ["sampler"] = r.Sampler.ToString().ToLowerInvariant(),
        ["nfe"] = r.Nfe,
        ["sliced_wasserstein"] = r.SlicedWasserstein,
        ["floor"] = r.Floor,
        ["ratio_to_floor"] = r.FloorRatio,
        ["modes_covered"] = r.Coverage?.Covered,
        ["modes"] = r.Coverage?.Total,
        ["off_mode_fraction"] = r.Coverage?.OffModeFraction,
        ["ms_per_sample"] = r.MsPerSample,
    }, new JsonSerializerOptions { WriteIndented = true });
}
