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
/// set), precision/recall, class-histogram entropy, NFE and ms/image; with --classes A-B, a conditional model's samples
/// have balanced labels over those classes and every real set (test images, floor) holds those classes only.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Where the metric classifier is looked for by default (relative to the working directory).</summary>
    public const string DefaultClassifier = "models/fmnist-classifier.safetensors";

    /// <summary>Samples a toy evaluation scores at most: SW₂ sorts every point, so they are all kept.</summary>
    public const int MaxToySamples = 1_000_000;

    /// <summary>
    /// Images sampled together without --batch. A network's activations live until its batch is done: 100 at a time keep
    /// a Fashion-MNIST evaluation near 1 GB resident (1.6 GB at 500) with the same values, since samples do not depend on
    /// the batch size. Toys keep --batch's default of 500 (their networks are small; smaller batches only add overhead).
    /// </summary>
    public const int ImageBatch = 100;

    /// <summary>Images an image evaluation scores at most: the floor compares as many Fashion-MNIST training images.</summary>
    public const int MaxImageSamples = 60_000;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors)", Required = true };
        var data = new Option<string?>("--data") { Description = "Data to score against: toy:NAME or fmnist (default: what the model was trained on)" };
        var dataDir = DiffusionCli.FashionDirOption();
        var n = new Option<int>("--n")
        {
            Description = DiffusionCli.Inv($"Samples from the model (and from each data sample, or training images for the floor): 2 to {MaxToySamples:N0} on toys, {MaxImageSamples:N0} on images"),
            DefaultValueFactory = _ => 10_000,
        };
        n.Check(v => v < 2 ? $"--n {v} must be ≥ 2" : null);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the samples, data samples and projections", DefaultValueFactory = _ => 0UL };
        var flags = new SamplerFlags(defaultBatch: 500);
        var classifier = new Option<string>("--classifier") { Description = "Metric classifier for images", DefaultValueFactory = _ => DefaultClassifier };
        var png = new Option<string?>("--png") { Description = "Write the scatter plot of the samples over the density (toys) or a grid of the first 100 images" };
        var json = new Option<string?>("--json") { Description = "Write the metrics as JSON" };
        var classes = ClassesOption.Create("Fashion-MNIST, conditional models: sample balanced labels over these classes only, FIRST-LAST (e.g. 5-9), and score against the test and training images of those classes");
        var force = OutputGuard.ForceOption("existing --png and --json files");
        var device = DeviceOption.Create();
        var cmd = new Command("eval", "Score a model against its data") { model, data, dataDir, n, seed };
        foreach (var o in flags.All.Concat([classes, classifier, png, json, force, device])) cmd.Options.Add(o);
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("eval", parseResult.InvocationConfiguration.Error, () =>
            {
                string path = parseResult.GetValue(model)!;
                OutputGuard.Distinct((parseResult.GetValue(png), "--png"), (parseResult.GetValue(json), "--json"));
                string? pngPath = OutputGuard.File(parseResult.GetValue(png), "--png", parseResult.GetValue(force));
                string? jsonPath = OutputGuard.File(parseResult.GetValue(json), "--json", parseResult.GetValue(force));
                using var on = DeviceOption.Open(parseResult, device);
                using var loaded = PretrainedModel.Load(path, on.Device);
                string? given = parseResult.GetValue(data);
                if (given != null && ImageSubset.TrySplit(given, out var whole, out _))
                    throw new ArgumentException($"--data {given}: dk eval scores against the whole test set; pass --data {whole} (and --classes FIRST-LAST for a class range)");
                // A fine-tuned model records the part of its data set it saw; it is scored against the data set's test images.
                string spec = given ?? (CheckpointKind.DataSpec(loaded.Metadata) is { } recorded ? ImageSubset.Whole(recorded)
                    : throw new ArgumentException($"{path} does not record its training data; pass --data"));
                int count = parseResult.GetValue(n);
                var options = flags.Resolve(parseResult, loaded, path, parseResult.GetValue(seed));
                bool images = spec == ImageDataSource.FashionSpec || spec.StartsWith(ImageDataSource.FashionSpec + ":", StringComparison.Ordinal);
                if (!ToyDataSource.IsToySpec(spec) && !images)
                    throw new ArgumentException($"dk eval scores toys (toy:NAME) and Fashion-MNIST models (fmnist); '{spec}' is neither");
                string? classesText = parseResult.GetValue(classes);
                if (classesText != null && !images) throw new ArgumentException($"--classes {classesText}: only Fashion-MNIST models are scored on a class range; {path} draws {spec}");
                var range = ClassesOption.Resolve(classesText, loaded, path);
                if (images && !RunCommand.Given(parseResult, flags.Batch)) options = options with { BatchSize = ImageBatch };
                int limit = images ? MaxImageSamples : MaxToySamples;
                if (count > limit)
                    throw new ArgumentException(DiffusionCli.Inv($"--n {count:N0}: {(images ? "the FD floor needs as many Fashion-MNIST training images, of which there are" : "a toy's SW₂ keeps every point; at most")} {limit:N0}"));
                string drawing = DiffusionCli.Inv($"drawing {count:N0} samples ({options.Kind.ToString().ToLowerInvariant()}, {options.Nfe} NFE)");
                if (!images)
                {
                    var toy = ToyDataSource.FromSpec(spec).Toy;
                    var (report, samples) = ProgressView.Track(console, report => ToyEvaluation.Evaluate(loaded, toy, count, options,
                        (done, total) => report(done, total, DiffusionCli.Inv($"{drawing}: {done:N0}/{total:N0}"))),
                        Estimate.OfParts(console, "to draw", "sample", "sliced W2 and the floor"));
                    console.Write(Table(path, report));
                    console.MarkupLine(Markup.Escape(Grid(options)));
                    if (pngPath != null) ToyScatterPlot.Save(pngPath, samples, ToyEvaluation.DensitySample(toy), toy.Modes.Count > 0 ? toy.Modes : null);
                    if (jsonPath != null) File.WriteAllText(jsonPath, EvaluationJson.Of(path, report, options));
                }
                else
                {
                    string classifierPath = parseResult.GetValue(classifier)!;
                    if (!File.Exists(classifierPath))
                        throw new ArgumentException($"metric classifier {classifierPath} not found; pass --classifier PATH (train one with dk train-classifier)");
                    using var clf = Classifier.Load(classifierPath);
                    var evaluator = DiffusionCli.Evaluator(clf, parseResult.GetValue(dataDir)!, range);
                    if (range is { } r && evaluator.TrainingImages() is var available && count > available)
                        throw new ArgumentException(DiffusionCli.Inv($"--n {count:N0}: the FD floor needs as many training images of {ClassesOption.Describe(r)}, of which there are {available:N0}"));
                    using var scope = Tensor.Scope();
                    var (report, samples) = ProgressView.Stages(console, report => ImageEvaluation.Evaluate(loaded, evaluator, count, options,
                        progress: ImageProgress(console, report, drawing)));
                    console.Write(Table(path, report));
                    if (pngPath != null) SampleCommand.WriteGrid(pngPath, samples, loaded.Crop);
                    if (jsonPath != null) File.WriteAllText(jsonPath, EvaluationJson.Of(path, report, options));
                }
                if (pngPath != null) console.MarkupLine(Markup.Escape($"wrote {pngPath}"));
                if (jsonPath != null) console.MarkupLine(Markup.Escape($"wrote {jsonPath}"));
                return 0;
            });
        });
        return cmd;
    }

    /// <summary>
    /// An image evaluation's progress as the display's stages, each named with its count: drawing (with
    /// <paramref name="drawing"/>'s words and the estimate after its first part), the test set's features,
    /// precision/recall's rows of distances, the floor's features.
    /// </summary>
    public static Action<EvaluationStage, long, long> ImageProgress(IAnsiConsole console, ProgressView.Report report, string drawing)
    {
        var estimate = Estimate.OfParts(console, "to draw and embed", "image", "the test set's features (unless cached), precision/recall and the floor");
        return (stage, done, total) =>
        {
            if (stage == EvaluationStage.Sampling) estimate.Part(done, total);
            report(stage.ToString(), done, total, stage switch
            {
                EvaluationStage.Sampling => DiffusionCli.Inv($"{drawing}: {done:N0}/{total:N0}"),
                EvaluationStage.TestFeatures => DiffusionCli.Inv($"features of the test set: {done:N0}/{total:N0} images"),
                EvaluationStage.PrecisionRecall => DiffusionCli.Inv($"precision/recall (k-NN): {done:N0}/{total:N0} rows of distances"),
                _ => DiffusionCli.Inv($"floor, features of the training images: {done:N0}/{total:N0}"),
            });
        };
    }

    /// <summary>The report as a two-column table, titled by the model's file name or <paramref name="label"/>.</summary>
    public static Table Table(string model, ToyReport r, string? label = null)
    {
        var t = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        t.Title = new TableTitle(Markup.Escape($"{label ?? Path.GetFileName(model)} on toy:{r.Toy}"));
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
        var subset = m.Classes.Subset;
        string of = subset is { } s ? " of " + ClassesOption.Describe(s) : "";
        t.Title = new TableTitle(Markup.Escape($"{Path.GetFileName(model)} on the Fashion-MNIST {(subset == null ? "test set" : "test images" + of)}"));
        void Row(string name, string value) => t.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("samples", DiffusionCli.Inv($"{m.Count:N0}"));
        Row("sampler", DiffusionCli.Inv($"{r.Sampler.ToString().ToLowerInvariant()}, {r.Nfe} NFE") + (r.Guidance != 1 ? DiffusionCli.Inv($", guidance {r.Guidance}") : ""));
        Row("FD (classifier features)", DiffusionCli.Inv($"{m.Fd:F4}"));
        if (r.Floor is { } floor)
        {
            Row(DiffusionCli.Inv($"floor ({m.Count:N0} training images{of})"), DiffusionCli.Inv($"{floor:F4}"));
            Row("ratio to floor", DiffusionCli.Inv($"{r.FloorRatio:F2}x"));
        }
        if (!double.IsNaN(m.Precision))
        {
            Row("precision (k = 3)", DiffusionCli.Inv($"{m.Precision:F4}"));
            Row("recall (k = 3)", DiffusionCli.Inv($"{m.Recall:F4}"));
        }
        Row(subset is var (first, last) ? DiffusionCli.Inv($"class entropy / ln {last - first + 1}") : "class entropy / ln 10",
            double.IsNaN(m.Classes.NormalisedEntropy) ? "n/a (one class)" : DiffusionCli.Inv($"{m.Classes.NormalisedEntropy:F4}"));
        if (subset is { } asked) Row("classified as " + ClassesOption.Describe(asked), DiffusionCli.Inv($"{m.Classes.InSubset:P2}"));
        Row("class histogram", string.Join(" ", m.Classes.Counts));
        Row("ms/image", DiffusionCli.Inv($"{r.MsPerSample:F3}"));
        return t;
    }
}
