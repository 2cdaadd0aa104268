using System.CommandLine;
using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train-classifier`: trains the metric classifier on Fashion-MNIST, reports test accuracy after
/// each epoch and saves the checkpoint that `dk eval` computes features with.
/// </summary>
internal static class TrainClassifierCommand
{
    public static Command Create()
    {
        // --data-dir as in train, sample and eval; --data stays as the name this command was first given.
        var data = new Option<string>("--data-dir", "--data") { Description = $"Directory with the Fashion-MNIST IDX files (default {FashionMnist.DefaultDirectory})" };
        var output = new Option<string>("--out") { Description = "Checkpoint to write", DefaultValueFactory = _ => "models/fmnist-classifier.safetensors" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set", DefaultValueFactory = _ => new ClassifierTrainingOptions().Epochs };
        var batch = new Option<int>("--batch") { Description = "Images per step", DefaultValueFactory = _ => new ClassifierTrainingOptions().BatchSize };
        var lr = new Option<float>("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => new ClassifierTrainingOptions().Lr };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial weights and the shuffling", DefaultValueFactory = _ => 0UL };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training images only" };
        var cmd = new Command("train-classifier", "Train the Fashion-MNIST classifier whose features the metrics use")
        {
            data, output, epochs, batch, lr, seed, limit,
        };
        cmd.SetAction(parseResult =>
        {
            var o = parseResult.InvocationConfiguration.Output;
            var err = parseResult.InvocationConfiguration.Error;
            return CliErrors.Run("train-classifier", err, () =>
            {
                var options = new ClassifierTrainingOptions
                {
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batch),
                    Lr = parseResult.GetValue(lr),
                    Seed = parseResult.GetValue(seed),
                };
                int? lim = parseResult.GetValue(limit);
                try
                {
                    options.Validate();
                    if (lim is < 1) throw new ArgumentException($"--limit must be ≥ 1, got {lim}");
                }
                catch (ArgumentException e)
                {
                    err.WriteLine($"dk train-classifier: {e.Message}");
                    return CliErrors.UserError;
                }
                return Run(o, parseResult.GetValue(data), parseResult.GetValue(output)!, options, lim);
            });
        });
        return cmd;
    }

    private static int Run(TextWriter o, string? dataDir, string outPath, ClassifierTrainingOptions options, int? limit)
    {
        var train = FashionMnist.Load(FashionSplit.Train, dataDir, limit);
        var test = FashionMnist.Load(FashionSplit.Test, dataDir);
        var config = ClassifierConfig.FashionMnist();
        using var model = new Classifier(config, new Generator(options.Seed));
        o.WriteLine(Inv($"classifier {config.ToJson()}: {model.ParameterCount:N0} parameters"));
        o.WriteLine(Inv($"data: {train.Count:N0} training and {test.Count:N0} test images from {dataDir ?? FashionMnist.DefaultDirectory}"));
        o.WriteLine(Inv($"training: {options.Epochs} epochs, batch {options.BatchSize}, AdamW lr {options.Lr}, seed {options.Seed}"));
        var epochs = ClassifierTraining.Train(model, train, test, options,
            s => o.WriteLine(Inv($"step {s.Step,6}/{s.TotalSteps}  loss {s.Loss:F4}  {s.ImagesPerSecond:F0} img/s")),
            e => o.WriteLine(Inv($"epoch {e.Epoch}/{options.Epochs}  train loss {e.TrainLoss:F4}  test accuracy {100 * e.TestAccuracy:F2}%  ({e.Seconds:F1} s)")),
            reportEvery: 100);

        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir != null) Directory.CreateDirectory(dir);
        model.Save(outPath);
        o.WriteLine(Inv($"saved {outPath}: test accuracy {100 * epochs[^1].TestAccuracy:F2}%, {epochs.Sum(e => e.Seconds):F0} s"));
        return 0;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
