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
/// draws samples from any saved model. 2D points go to .npy as N×2 and to a scatter PNG; images go to .npy as
/// N×C×H×W (values clipped to the data range [−1, 1]; padding recorded in the checkpoint cropped off) and to a PNG grid.
/// </summary>
internal static class SampleCommand
{
    /// <summary>Images written to the PNG grid at most.</summary>
    private const int MaxGridImages = 100;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model checkpoint (.safetensors)", Required = true };
        var n = new Option<int>("--n") { Description = "Number of samples", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial noise", DefaultValueFactory = _ => 0UL };
        var sampler = new Option<string?>("--sampler") { Description = "heun, euler or ddim (default: the model's own, else heun; generator networks: generator)" };
        var steps = new Option<int?>("--steps") { Description = "Noise levels (default: the model's own, else 18: 35 evaluations with heun)" };
        var sigmaMax = SigmaMaxOption();
        var threshold = ThresholdOption();
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale (conditional models)", DefaultValueFactory = _ => 1.0 };
        var cls = new Option<int?>("--class") { Description = "Class of every sample (conditional models; default: balanced)" };
        var batch = new Option<int>("--batch") { Description = "Samples integrated together", DefaultValueFactory = _ => 1024 };
        var png = new Option<string?>("--png") { Description = "Write a scatter plot (2D) or image grid (first 100 images, cropped like the .npy)" };
        var npy = new Option<string?>("--npy") { Description = "Write the samples as float32 .npy" };
        var device = DeviceOption.Create();
        var cmd = new Command("sample", "Draw samples from a model") { model, n, seed, sampler, steps, sigmaMax, threshold, guidance, cls, batch, png, npy, device };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("sample", parseResult.InvocationConfiguration.Error, () =>
            {
                using var on = DeviceOption.Open(parseResult, device);
                using var loaded = PretrainedModel.Load(parseResult.GetValue(model)!, on.Device);
                var options = Options(loaded, parseResult.GetValue(sampler), parseResult.GetValue(steps), parseResult.GetValue(seed), parseResult.GetValue(batch), parseResult.GetValue(sigmaMax), parseResult.GetValue(threshold)) with
                {
                    Guidance = parseResult.GetValue(guidance),
                };
                int count = parseResult.GetValue(n);
                float[]? labels = null;
                if (parseResult.GetValue(cls) is { } c)
                {
                    if ((c < 0 || c >= loaded.NumClasses) && !(c == -1 && loaded.HasUnconditionalBranch)) throw new ArgumentException($"--class {c} is not a class of this model ({loaded.NumClasses} classes)");
                    labels = Enumerable.Repeat((float)c, count).ToArray();
                }
                using var scope = Tensor.Scope();
                var result = loaded.Sample(count, options.Seed, labels, options);
                var written = new List<string>();
                if (parseResult.GetValue(npy) is { } npyPath) written.Add(WriteNpy(npyPath, result.Samples, loaded.Crop));
                if (parseResult.GetValue(png) is { } pngPath) written.Add(WritePng(pngPath, result.Samples, loaded));
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"{count} samples, {(loaded.IsGenerator ? "one generator evaluation" : $"{options.Kind.ToString().ToLowerInvariant()} with {options.Steps} levels")}: {result.Nfe} NFE, {result.MsPerSample:F3} ms/sample ({result.Seconds:F2} s)")));
                foreach (var w in written) console.MarkupLine(Markup.Escape($"wrote {w}"));
                return 0;
            });
        });
        return cmd;
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
    public static Option<double?> SigmaMaxOption() => new("--sigma-max")
    {
        Description = "Largest level of the Karras grid (default: the model's own, else 80)",
    };

    /// <summary>The --threshold option of sample and eval.</summary>
    public static Option<string?> ThresholdOption() => new("--threshold")
    {
        Description = "x0 thresholding at every step: none, clip (to [-1, 1]), dynamic or dynamic:Q (quantile Q of |x0|; default: the model's own, else none)",
    };

    /// <summary>The toy a checkpoint was trained on, when it was trained on one.</summary>
    public static ToyDistribution? TrainedToy(IReadOnlyDictionary<string, string> metadata) =>
        CheckpointKind.DataSpec(metadata) is { } spec && ToyDataSource.IsToySpec(spec) ? ToyDataSource.FromSpec(spec).Toy : null;

    private static string WriteNpy(string path, Tensor samples, int crop)
    {
        var (data, shape) = SampleExport.ForNpy(samples, crop);
        NpyFile.Write(path, data, shape);
        return path;
    }

    private static string WritePng(string path, Tensor samples, PretrainedModel model)
    {
        if (samples.Rank == 2)
        {
            var toy = TrainedToy(model.Metadata);
            ToyScatterPlot.Save(path, samples.ToArray(), toy == null ? null : ToyEvaluation.DensitySample(toy), toy?.Modes);
        }
        else
        {
            WriteGrid(path, samples, model.Crop);
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
