using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Ops;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk sample --model PATH --n N --seed S [--sampler heun|euler|ddim] [--steps K] [--png OUT.png] [--npy OUT.npy]`:
/// draws samples from any saved model, a batch at a time (memory does not grow with N; a progress bar on a terminal).
/// 2D points go to .npy as N×2 and to a scatter PNG; images go to .npy as N×C×H×W (values clipped to the data range
/// [−1, 1]; padding recorded in the checkpoint cropped off) and to a PNG grid. Outputs are checked before sampling.
/// A conditional model draws balanced labels over all its classes, over --classes A-B, or --class C for every sample.
/// </summary>
internal static class SampleCommand
{
    /// <summary>Images written to the PNG grid at most.</summary>
    private const int MaxGridImages = 100;

    /// <summary>Points drawn in a scatter PNG at most (the first ones).</summary>
    public const int MaxScatterPoints = 100_000;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors)", Required = true };
        var n = new Option<int>("--n") { Description = "Number of samples, ≥ 1 (drawn and written a batch at a time: memory does not grow with N)", DefaultValueFactory = _ => 1000 };
        n.Check(v => v < 1 ? $"--n {v} must be ≥ 1" : null);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial noise", DefaultValueFactory = _ => 0UL };
        var flags = new SamplerFlags(defaultBatch: 1024);
        var cls = new Option<int?>("--class") { Description = "Class of every sample (conditional models; default: balanced)" };
        var classes = ClassesOption.Create("Balanced labels over these classes only, FIRST-LAST (e.g. 5-9; conditional models)");
        var png = new Option<string?>("--png") { Description = $"Write a scatter plot (2D, the first {MaxScatterPoints:N0} points) or image grid (first {MaxGridImages} images, cropped like the .npy)" };
        var npy = new Option<string?>("--npy") { Description = "Write the samples as float32 .npy" };
        var force = OutputGuard.ForceOption("existing --png and --npy files");
        var device = DeviceOption.Create();
        var cmd = new Command("sample", "Draw samples from a model") { model, n, seed };
        foreach (var o in flags.All.Concat([cls, classes, png, npy, force, device])) cmd.Options.Add(o);
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("sample", parseResult.InvocationConfiguration.Error, () =>
            {
                OutputGuard.Distinct((parseResult.GetValue(npy), "--npy"), (parseResult.GetValue(png), "--png"));
                string? npyPath = OutputGuard.File(parseResult.GetValue(npy), "--npy", parseResult.GetValue(force));
                string? pngPath = OutputGuard.File(parseResult.GetValue(png), "--png", parseResult.GetValue(force));
                string path = parseResult.GetValue(model)!;
                using var on = DeviceOption.Open(parseResult, device);
                using var loaded = PretrainedModel.Load(path, on.Device);
                var options = flags.Resolve(parseResult, loaded, path, parseResult.GetValue(seed));
                int count = parseResult.GetValue(n);
                int? label = parseResult.GetValue(cls);
                if (label is { } c && (c < 0 || c >= loaded.NumClasses) && !(c == -1 && loaded.HasUnconditionalBranch))
                    throw new ArgumentException(loaded.NumClasses == 0 ? $"--class {c}: {path} is unconditional; it takes no class" : $"--class {c} is not a class of this model ({loaded.NumClasses} classes: 0–{loaded.NumClasses - 1})");
                string? classesText = parseResult.GetValue(classes);
                if (label != null && classesText != null) throw new ArgumentException($"--class {label} and --classes {classesText}: give one class for every sample or a range to balance over, not both");
                var range = ClassesOption.Resolve(classesText, loaded, path);
                var exportShape = new long[] { count }.Concat(loaded.SampleShape.ToArray().Select(d => (long)d)).ToArray();
                if (npyPath != null) RequireRoom(npyPath, NpyWriter.FileBytes(exportShape));
                using var npyOut = npyPath == null ? null : new NpyWriter(npyPath, exportShape);
                var head = new List<float>();
                int keep = pngPath == null ? 0 : loaded.SampleShape.Rank == 1 ? MaxScatterPoints : MaxGridImages;
                int headCount = 0;
                var (nfe, seconds) = ProgressView.Track(console, report => loaded.SampleInParts(count, options.Seed, label, options, options.BatchSize, (part, first) =>
                {
                    var (data, _) = SampleExport.ForNpy(part.Samples, loaded.Crop);
                    npyOut?.Append(data);
                    int rows = part.Samples.Shape[0], per = data.Length / rows;
                    int take = Math.Min(rows, keep - headCount);
                    if (take > 0)
                    {
                        head.AddRange(data.AsSpan(0, take * per).ToArray());
                        headCount += take;
                    }
                    report(first + rows, count, DiffusionCli.Inv($"sampled {first + rows:N0}/{count:N0}"));
                }, range), Estimate.OfParts(console, "for", loaded.SampleShape.Rank == 1 ? "sample" : "image"));
                npyOut?.Commit();
                var written = new List<string>();
                if (npyPath != null) written.Add(npyPath);
                if (pngPath != null) written.Add(WritePng(pngPath, head.ToArray(), headCount, loaded));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"{count} samples, {(loaded.IsGenerator ? "one generator evaluation" : $"{options.Kind.ToString().ToLowerInvariant()} with {options.Steps} levels")}: {nfe} NFE, {1000 * seconds / count:F3} ms/sample ({seconds:F2} s)")));
                foreach (var w in written) console.MarkupLine(Markup.Escape($"wrote {w}"));
                return 0;
            });
        });
        return cmd;
    }

    // Refuses a file the disk cannot hold before sampling it, rather than failing when the disk fills.
    private static void RequireRoom(string path, long bytes)
    {
        long free = new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(path))!).AvailableFreeSpace;
        if (bytes > free)
            throw new ArgumentException(DiffusionCli.Inv($"--npy {path}: the samples take {bytes / 1e9:F1} GB and its disk has {free / 1e9:F1} GB free; lower --n"));
    }

    /// <summary>
    /// Sampler settings from the command line's values (the sampler by name), else the model's defaults; see
    /// <see cref="PretrainedModel.Options"/>.
    /// </summary>
    public static SamplerOptions Options(PretrainedModel model, string? sampler, int? steps, ulong seed, int batch, double? sigmaMax = null, string? threshold = null)
    {
        try
        {
            return model.Options(sampler == null ? null : SamplerOptions.ParseKind(sampler), steps, sigmaMax, seed, batch,
                threshold == null ? model.DefaultOptions.Threshold : X0Threshold.Parse(threshold));
        }
        catch (InvalidInputException e) when (FlagOf(e.Subject) is { } flag)
        {
            throw new InvalidInputException(flag, e.Problem, e);
        }
    }

    // The library names its arguments; the command line names the flags that set them.
    private static string? FlagOf(string argument) => argument switch
    {
        "kind" => "--sampler",
        "steps" => "--steps",
        "sigmaMax" => "--sigma-max",
        "threshold" => "--threshold",
        "batchSize" => "--batch",
        _ => null,
    };

    /// <summary>The --sigma-max option of sample and eval.</summary>
    public static Option<double?> SigmaMaxOption() => SigmaMaxLimit(new("--sigma-max")
    {
        Description = "Largest level of the Karras grid (default: the model's own, else 80)",
    });

    /// <summary>Limits a --sigma-max to lie above the grid's fixed σ_min (a Karras grid runs from σ_max down to it).</summary>
    public static Option<double?> SigmaMaxLimit(Option<double?> sigmaMax) => sigmaMax.Above(new SamplerOptions().SigmaMin, "σ_min, where the grid ends");

    /// <summary>The --threshold option of sample and eval.</summary>
    public static Option<string?> ThresholdOption() => new Option<string?>("--threshold")
    {
        Description = "x0 thresholding at every step: none, clip (to [-1, 1]), clip:B (to [-B, B]), dynamic or dynamic:Q (quantile Q of |x0|; default: the model's own, else none)",
    }.Parses(t => X0Threshold.Parse(t));

    /// <summary>The toy a checkpoint was trained on, when it was trained on one.</summary>
    public static ToyDistribution? TrainedToy(IReadOnlyDictionary<string, string> metadata) =>
        CheckpointKind.DataSpec(metadata) is { } spec && ToyDataSource.IsToySpec(spec) ? ToyDataSource.FromSpec(spec).Toy : null;

    // The first samples as exported (points N×2, images N×C×H×W cropped and clipped) as a scatter plot or an image grid.
    private static string WritePng(string path, float[] head, int count, PretrainedModel model)
    {
        if (model.SampleShape.Rank == 1)
        {
            var toy = TrainedToy(model.Metadata);
            ToyScatterPlot.Save(path, head, toy == null ? null : ToyEvaluation.DensitySample(toy), toy?.Modes);
        }
        else
        {
            using var scope = Tensor.Scope();
            var s = model.SampleShape;
            ImageGrid.Save(path, F.Permute(Tensor.FromArray(head, count, s[0], s[1], s[2]), 0, 2, 3, 1));
        }
        return path;
    }

    /// <summary>The first 100 of <paramref name="samples"/> [N, H, W, C] as a PNG grid, each cropped by <paramref name="crop"/> pixels per side.</summary>
    public static void WriteGrid(string path, Tensor samples, int crop)
    {
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var head = F.Narrow(samples, 0, 0, Math.Min(samples.Shape[0], MaxGridImages));
        int h = samples.Shape[1], w = samples.Shape[2];
        ImageGrid.Save(path, crop == 0 ? head : F.Narrow(F.Narrow(head, 1, crop, h - 2 * crop), 2, crop, w - 2 * crop));
    }
}
