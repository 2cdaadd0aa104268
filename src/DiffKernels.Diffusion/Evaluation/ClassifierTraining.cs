using System.Diagnostics;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Evaluation;

/// <summary>Settings of <see cref="ClassifierTraining.Train"/>.</summary>
public sealed record ClassifierTrainingOptions
{
    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 4;

    /// <summary>Images per step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Peak learning rate of AdamW (after a short warm-up, cosine decay to a tenth of it).</summary>
    public float Lr { get; init; } = 3e-3f;

    /// <summary>AdamW decoupled weight decay.</summary>
    public float WeightDecay { get; init; } = 1e-2f;

    /// <summary>Seed of the weights' initialisation is the caller's; this one shuffles the batches.</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws an ArgumentException naming the first bad setting.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentException($"classifier training: epochs must be ≥ 1, got {Epochs}");
        if (BatchSize < 1) throw new ArgumentException($"classifier training: batch size must be ≥ 1, got {BatchSize}");
        if (!(Lr > 0) || !float.IsFinite(Lr)) throw new ArgumentException($"classifier training: learning rate must be positive, got {Lr}");
        if (!(WeightDecay >= 0)) throw new ArgumentException($"classifier training: weight decay must be ≥ 0, got {WeightDecay}");
    }
}

/// <summary>Progress after a training step: the step (1-based), the total, and the mean loss since the last report.</summary>
public readonly record struct ClassifierStep(long Step, long TotalSteps, double Loss, double ImagesPerSecond);

/// <summary>Summary of one epoch: mean training loss, held-out accuracy (NaN without a held-out set) and wall time.</summary>
public readonly record struct ClassifierEpoch(int Epoch, double TrainLoss, double TestAccuracy, double Seconds);

/// <summary>Trains a <see cref="Classifier"/> with cross-entropy and AdamW, and measures accuracy.</summary>
public static class ClassifierTraining
{
    /// <summary>
    /// Trains <paramref name="model"/> on <paramref name="train"/> (labels 0..classes−1) for the configured
    /// epochs, reporting every <paramref name="reportEvery"/> steps through <paramref name="onStep"/> and
    /// after each epoch (with accuracy on <paramref name="test"/> when given) through <paramref name="onEpoch"/>.
    /// Returns the epoch summaries. Deterministic for a given model initialisation and options.
    /// </summary>
    public static IReadOnlyList<ClassifierEpoch> Train(Classifier model, ImageDataset train, ImageDataset? test, ClassifierTrainingOptions options,
        Action<ClassifierStep>? onStep = null, Action<ClassifierEpoch>? onEpoch = null, int reportEvery = 50)
    {
        options.Validate();
        CheckData(model, train, "training set");
        if (test != null) CheckData(model, test, "held-out set");
        if (train.Labels.ToArray().Any(l => l < 0))
            throw new ArgumentException("classifier training: the training set has unlabelled images (label −1)");

        var batches = new ShuffledBatches(train, Math.Min(options.BatchSize, train.Count), options.Seed);
        long total = (long)batches.BatchesPerEpoch * options.Epochs;
        var schedule = LrSchedule.Cosine(options.Lr, warmupSteps: (int)Math.Min(100, total / 10), totalSteps: (int)total, floor: options.Lr / 10);
        using var opt = new AdamW(model.Parameters(), lr: options.Lr, weightDecay: options.WeightDecay);
        var epochs = new List<ClassifierEpoch>();
        model.Train();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var window = Stopwatch.StartNew();
            double epochLoss = 0, windowLoss = 0;
            int windowSteps = 0;
            for (int k = 0; k < batches.BatchesPerEpoch; k++)
            {
                using var scope = Tensor.Scope();
                var (x, y) = batches.Next();
                opt.ZeroGrad();
                var loss = F.CrossEntropy(model.Forward(x), y);
                loss.Backward();
                opt.Lr = schedule.At(batches.Step - 1);
                opt.Step();
                double l = loss.Item();
                epochLoss += l;
                windowLoss += l;
                windowSteps++;
                if (onStep != null && (batches.Step % reportEvery == 0 || k == batches.BatchesPerEpoch - 1))
                {
                    onStep(new ClassifierStep(batches.Step, total, windowLoss / windowSteps, windowSteps * batches.BatchSize / window.Elapsed.TotalSeconds));
                    windowLoss = 0;
                    windowSteps = 0;
                    window.Restart();
                }
            }
            double acc = test != null ? Accuracy(model, test) : double.NaN;
            model.Train();
            var report = new ClassifierEpoch(epoch + 1, epochLoss / batches.BatchesPerEpoch, acc, clock.Elapsed.TotalSeconds);
            epochs.Add(report);
            onEpoch?.Invoke(report);
        }
        model.Eval();
        return epochs;
    }

    /// <summary>Fraction of <paramref name="data"/> whose predicted class equals its label (evaluation mode, no graph).</summary>
    public static double Accuracy(Classifier model, ImageDataset data, int batchSize = 500)
    {
        CheckData(model, data, "dataset");
        var predicted = Predict(model, data, batchSize);
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == data.Labels[i]) correct++;
        return (double)correct / data.Count;
    }

    /// <summary>The predicted class of every image of <paramref name="data"/>.</summary>
    public static int[] Predict(Classifier model, ImageDataset data, int batchSize = 500)
    {
        var result = new int[data.Count];
        model.Eval();
        using var noGrad = Tensor.NoGrad();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = Tensor.Scope();
            int n = Math.Min(batchSize, data.Count - start);
            var logits = model.Forward(data.Range(start, n).Images).ToArray();
            ArgMaxRows(logits, model.Config.NumClasses).CopyTo(result, start);
        }
        return result;
    }

    /// <summary>Index of the largest value of each row of a row-major [rows, columns] array (first on ties).</summary>
    internal static int[] ArgMaxRows(float[] values, int columns)
    {
        var r = new int[values.Length / columns];
        for (int i = 0; i < r.Length; i++)
        {
            int best = 0;
            for (int j = 1; j < columns; j++)
                if (values[i * columns + j] > values[i * columns + best]) best = j;
            r[i] = best;
        }
        return r;
    }

    private static void CheckData(Classifier model, ImageDataset data, string what)
    {
        var c = model.Config;
        if (data.Height != c.ImageSize || data.Width != c.ImageSize || data.Channels != c.Channels)
            throw new ArgumentException($"classifier: {what} holds {data.SampleShape} images, the model takes [{c.ImageSize}, {c.ImageSize}, {c.Channels}]");
        if (data.Count == 0) throw new ArgumentException($"classifier: {what} is empty");
        if (data.NumClasses > c.NumClasses)
            throw new ArgumentException($"classifier: {what} has {data.NumClasses} classes, the model {c.NumClasses}");
    }
}
