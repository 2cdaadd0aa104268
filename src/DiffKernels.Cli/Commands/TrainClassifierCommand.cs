using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train-classifier [--data fmnist|fmnist:N] [--data-dir DIR] [--out FILE]`: trains the metric classifier on
/// Fashion-MNIST, prints an estimate of the training time after its first steps, reports test accuracy after each epoch
/// and saves the checkpoint that `dk eval` computes features with.
/// The default output is under runs/: the committed classifier every FD is measured with is replaced only when named
/// with --out and --force.
/// </summary>
internal static class TrainClassifierCommand
{
    /// <summary>Where the checkpoint goes without --out.</summary>
    public const string DefaultOut = "runs/classifier/fmnist-classifier.safetensors";

    public static Command Create()
    {
        var defaults = new ClassifierTrainingOptions();
        var data = new Option<string>("--data") { Description = "Training data: fmnist, or fmnist:N for its first N training images", DefaultValueFactory = _ => ImageDataSource.FashionSpec };
        var dataDir = DiffusionCli.FashionDirOption();
        var output = new Option<string>("--out") { Description = "Checkpoint to write", DefaultValueFactory = _ => DefaultOut };
        var force = OutputGuard.ForceOption("an existing --out file");
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set (≥ 1)", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch") { Description = "Images per step (≥ 1)", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate (> 0)", DefaultValueFactory = _ => defaults.Lr };
        epochs.AtLeast(1);
        batch.AtLeast(1);
        lr.Positive();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial weights and the shuffling", DefaultValueFactory = _ => 0UL };
        var cmd = new Command("train-classifier", "Train the Fashion-MNIST classifier whose features the metrics use")
        {
            data, dataDir, output, force, epochs, batch, lr, seed,
        };
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("train-classifier", parseResult.InvocationConfiguration.Error, () =>
            {
                var options = defaults with
                {
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batch),
                    Lr = parseResult.GetValue(lr),
                    Seed = parseResult.GetValue(seed),
                };
                options.Validate();
                int? limit = Limit(parseResult.GetValue(data)!);
                string outPath = OutputGuard.File(parseResult.GetValue(output), "--out", parseResult.GetValue(force))!;
                return Run(console, parseResult.GetValue(dataDir)!, outPath, options, limit);
            });
        });
        return cmd;
    }

    // The classifier is the metric's, so it trains on Fashion-MNIST only; a folder given as --data belongs in --data-dir.
    private static int? Limit(string spec)
    {
        if (spec == ImageDataSource.FashionSpec) return null;
        if (spec.StartsWith(ImageDataSource.FashionSpec + ":", StringComparison.Ordinal)
            && int.TryParse(spec.AsSpan(ImageDataSource.FashionSpec.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1)
            return n;
        string hint = Directory.Exists(spec) ? $" ({spec} is a folder: pass it as --data-dir)" : "";
        throw new ArgumentException($"--data {spec}: expected fmnist or fmnist:N (N ≥ 1 training images){hint}");
    }

    private static int Run(IAnsiConsole console, string dataDir, string outPath, ClassifierTrainingOptions options, int? limit)
    {
        var train = FashionMnist.Load(FashionSplit.Train, dataDir, limit);
        var test = FashionMnist.Load(FashionSplit.Test, dataDir);
        var config = ClassifierConfig.FashionMnist();
        using var model = new Classifier(config, new Generator(options.Seed));
        void Line(FormattableString s) => console.MarkupLine(Markup.Escape(DiffusionCli.Inv(s)));
        Line($"classifier {config.ToJson()}: {model.ParameterCount:N0} parameters");
        Line($"data: {train.Count:N0} training and {test.Count:N0} test images from {dataDir}");
        Line($"training: {options.Epochs} epochs, batch {options.BatchSize}, AdamW lr {options.Lr}, seed {options.Seed}");
        var epochs = ProgressView.Track(console, report => ClassifierTraining.Train(model, train, test, options,
            s => report(s.Step, s.TotalSteps, DiffusionCli.Inv($"step {s.Step}/{s.TotalSteps}  loss {s.Loss:F4}  {s.ImagesPerSecond:F0} img/s")),
            e => Line($"epoch {e.Epoch}/{options.Epochs}  train loss {e.TrainLoss:F4}  test accuracy {100 * e.TestAccuracy:F2}%  ({e.Seconds:F1} s)"),
            reportEvery: 10), Estimate.OfParts(console, "for", "step", "a test-set pass after each epoch"));
        model.Save(outPath);
        Line($"saved {outPath}: test accuracy {100 * epochs[^1].TestAccuracy:F2}%, {epochs.Sum(e => e.Seconds):F0} s");
        return 0;
    }
}
