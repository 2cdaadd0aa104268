using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk eval --model PATH [--data SPEC]`: samples a model and scores it against its data. For toys: sliced
/// Wasserstein to a fresh data sample, the same distance between two fresh data samples (the floor), mode
/// coverage, off-mode fraction, NFE and ms/sample. For Fashion-MNIST image models: Fréchet distance in the
/// metric classifier's features against the test set, the floor (as many training images against the test
/// set), precision/recall, class-histogram entropy, NFE and ms/image.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Where the metric classifier is looked for by default (relative to the working directory).</summary>
    public const string DefaultClassifier = "models/fmnist-classifier.safetensors";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors)", Required = true };
        var data = new Option<string?>("--data") { Description = "Data to score against: toy:NAME or fmnist (default: what the model was trained on)" };
        var dataDir = DiffusionCli.FashionDirOption();
        var n = new Option<int>("--n") { Description = "Samples from the model (and from each data sample, or training images for the floor)", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the samples, data samples and projections", DefaultValueFactory = _ => 0UL };
        var sampler = new Option<string?>("--sampler") { Description = "heun, euler or ddim (default: the model's own, else heun)" };
        var steps = new Option<int?>("--steps") { Description = "Noise levels (default: the model's own, else 18: 35 evaluations with heun)" };
        var sigmaMax = SampleCommand.SigmaMaxOption();
        var threshold = SampleCommand.ThresholdOption();
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale (conditional image models)", DefaultValueFactory = _ => 1.0 };
        var batch = new Option<int>("--batch") { Description = "Samples integrated together", DefaultValueFactory = _ => 500 };
        var classifier = new Option<string>("--classifier") { Description = "Metric classifier for images", DefaultValueFactory = _ => DefaultClassifier };
        var png = new Option<string?>("--png") { Description = "Write the scatter plot of the samples over the density (toys) or a grid of the first 100 images" };
        var json = new Option<string?>("--json") { Description = "Write the metrics as JSON" };
        var force = OutputGuard.ForceOption("existing --png and --json files");
        var device = DeviceOption.Create();
        var cmd = new Command("eval", "Score a model against its data") { model, data, dataDir, n, seed, sampler, steps, sigmaMax, threshold, guidance, batch, classifier, png, json, force, device };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("eval", parseResult.InvocationConfiguration.Error, () =>
            {
                string path = parseResult.GetValue(model)!;
                string? pngPath = OutputGuard.File(parseResult.GetValue(png), "--png", parseResult.GetValue(force));
                string? jsonPath = OutputGuard.File(parseResult.GetValue(json), "--json", parseResult.GetValue(force));
                using var on = DeviceOption.Open(parseResult, device);
                using var loaded = PretrainedModel.Load(path, on.Device);
                string spec = parseResult.GetValue(data) ?? CheckpointKind.DataSpec(loaded.Metadata)
                    ?? throw new ArgumentException($"{path} does not record its training data; pass --data");
                int count = parseResult.GetValue(n);
                if (count < 2) throw new ArgumentException($"--n {count} must be ≥ 2");
                var options = SampleCommand.Options(loaded, parseResult.GetValue(sampler), parseResult.GetValue(steps), parseResult.GetValue(seed), parseResult.GetValue(batch), parseResult.GetValue(sigmaMax), parseResult.GetValue(threshold)) with
                {
                    Guidance = parseResult.GetValue(guidance),
                };
                if (ToyDataSource.IsToySpec(spec))
                {
                    var toy = ToyDataSource.FromSpec(spec).Toy;
                    var (report, samples) = ToyEvaluation.Evaluate(loaded, toy, count, options);
                    console.Write(Table(path, report));
                    console.MarkupLine(Markup.Escape(Grid(options)));
                    if (pngPath != null) ToyScatterPlot.Save(pngPath, samples, ToyEvaluation.DensitySample(toy), toy.Modes.Count > 0 ? toy.Modes : null);
                    if (jsonPath != null) File.WriteAllText(jsonPath, EvaluationJson.Of(path, report, options));
                }
                else if (spec == ImageDataSource.FashionSpec || spec.StartsWith(ImageDataSource.FashionSpec + ":", StringComparison.Ordinal))
                {
                    string classifierPath = parseResult.GetValue(classifier)!;
                    if (!File.Exists(classifierPath))
                        throw new ArgumentException($"metric classifier {classifierPath} not found; pass --classifier PATH (train one with dk train-classifier)");
                    using var clf = Classifier.Load(classifierPath);
                    var evaluator = DiffusionCli.Evaluator(clf, parseResult.GetValue(dataDir)!);
                    using var scope = Tensor.Scope();
                    var (report, samples) = ImageEvaluation.Evaluate(loaded, evaluator, count, options);
                    console.Write(Table(path, report));
                    if (pngPath != null) SampleCommand.WriteGrid(pngPath, samples, loaded.Crop);
                    if (jsonPath != null) File.WriteAllText(jsonPath, EvaluationJson.Of(path, report, options));
                }
                else
                {
                    throw new ArgumentException($"dk eval scores toys (toy:NAME) and Fashion-MNIST models (fmnist); '{spec}' is neither");
                }
                if (pngPath != null) console.MarkupLine(Markup.Escape($"wrote {pngPath}"));
                if (jsonPath != null) console.MarkupLine(Markup.Escape($"wrote {jsonPath}"));
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

    /// <summary>The σ grid a sampler walks, in words (a report names only the solver and its NFE).</summary>
    public static string Grid(SamplerOptions o) =>
        o.Sigmas is { } levels ? "grid: the recorded levels " + string.Join(", ", levels.Select(v => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture))) + ", 0"
        : o.Kind == SamplerKind.Ddim ? DiffusionCli.Inv($"grid: {o.Steps} uniform-time VP levels")
        : o.Steps == 1 ? DiffusionCli.Inv($"grid: one step from σ {o.SigmaMax} to 0")
        : DiffusionCli.Inv($"grid: {o.Steps} Karras levels, σ {o.SigmaMin}–{o.SigmaMax}, ρ = {o.Rho}");

    /// <summary>The image report as a two-column table.</summary>
    public static Table Table(string model, ImageReport r)
    {
        var m = r.Metrics;
        var t = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        t.Title = new TableTitle(Markup.Escape($"{Path.GetFileName(model)} on the Fashion-MNIST test set"));
        void Row(string name, string value) => t.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("samples", DiffusionCli.Inv($"{m.Count:N0}"));
        Row("sampler", DiffusionCli.Inv($"{r.Sampler.ToString().ToLowerInvariant()}, {r.Nfe} NFE") + (r.Guidance != 1 ? DiffusionCli.Inv($", guidance {r.Guidance}") : ""));
        Row("FD (classifier features)", DiffusionCli.Inv($"{m.Fd:F4}"));
        if (r.Floor is { } floor)
        {
            Row(DiffusionCli.Inv($"floor ({m.Count:N0} training images)"), DiffusionCli.Inv($"{floor:F4}"));
            Row("ratio to floor", DiffusionCli.Inv($"{r.FloorRatio:F2}x"));
        }
        if (!double.IsNaN(m.Precision))
        {
            Row("precision (k = 3)", DiffusionCli.Inv($"{m.Precision:F4}"));
            Row("recall (k = 3)", DiffusionCli.Inv($"{m.Recall:F4}"));
        }
        Row("class entropy / ln 10", DiffusionCli.Inv($"{m.Classes.NormalisedEntropy:F4}"));
        Row("class histogram", string.Join(" ", m.Classes.Counts));
        Row("ms/image", DiffusionCli.Inv($"{r.MsPerSample:F3}"));
        return t;
    }
}
