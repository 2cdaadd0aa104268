using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

public sealed partial class EdmTrainer
{
    /// <summary>Metadata key: pixels per side that exported image samples drop (see <see cref="IDataSource.Crop"/>).</summary>
    public const string CropKey = "crop";

    private const string WeightsPrefix = ModelFactory.TrainingPrefix + "weights.";
    private const string AdamPrefix = ModelFactory.TrainingPrefix + "adam.";
    private const string StepKey = ModelFactory.TrainingPrefix + "step";
    private const string SkippedKey = ModelFactory.TrainingPrefix + "skipped";
    private const string ConsecutiveKey = ModelFactory.TrainingPrefix + "consecutive_skips";
    private const string OptionsKey = ModelFactory.TrainingPrefix + "options";
    private const string DataKey = ModelFactory.TrainingPrefix + "data";
    private const string DataRngKey = ModelFactory.TrainingPrefix + "rng.data";
    private const string NoiseRngKey = ModelFactory.TrainingPrefix + "rng.noise";

    /// <summary>
    /// The default sampler the checkpoints record (`dk set-sampler`); a resumed run keeps the one its checkpoint
    /// recorded, so continuing training does not reset how `dk sample` and `dk eval` draw from the model.
    /// </summary>
    public SamplerDefaults? SamplingDefaults { get; set; }

    /// <summary>
    /// Writes the whole training state to <paramref name="path"/> atomically: EMA weights under the model's
    /// names (what sampling loads), the raw weights, Adam's moments and step counts, the step, skip counters,
    /// RNG offsets, options and data spec.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        using var scope = Tensor.Scope();
        var extra = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Model.StateDict()) extra.Add(WeightsPrefix + name, t);
        foreach (var (name, t) in _adam.StateDict()) extra.Add(AdamPrefix + name, t);
        var metadata = new Dictionary<string, string>
        {
            [StepKey] = Invariant(Step),
            [SkippedKey] = Invariant(Skipped),
            [ConsecutiveKey] = Invariant(_consecutiveSkips),
            [OptionsKey] = Options.ToJson(),
            [DataKey] = Data.Name,
            [DataRngKey] = Invariant(_dataGen.Offset),
            [NoiseRngKey] = Invariant(_noiseGen.Offset),
            [Edm.SigmaDataKey] = Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture),
        };
        if (Data.Crop > 0) metadata[CropKey] = Invariant(Data.Crop);
        SamplingDefaults?.ApplyTo(metadata);
        RunProvenance.Stamp(this, metadata);
        ModelFactory.Save(path, Model, _ema.Shadow, extra, metadata, ParameterOf(Model));
    }

    /// <summary>
    /// The model parameter a training-state tensor mirrors (so it is stored in that parameter's file layout):
    /// "train.weights.NAME" is NAME; Adam's "train.adam.I.exp_avg" and ".exp_avg_sq" belong to parameter I in
    /// the model's order (Adam is built over <see cref="Module.Parameters"/>); anything else mirrors none.
    /// </summary>
    private static Func<string, string?> ParameterOf(Module model)
    {
        var names = model.NamedParameters().Select(p => p.Name).ToArray();
        return key =>
        {
            if (key.StartsWith(WeightsPrefix, StringComparison.Ordinal)) return key[WeightsPrefix.Length..];
            if (!key.StartsWith(AdamPrefix, StringComparison.Ordinal)) return null;
            var parts = key[AdamPrefix.Length..].Split('.');
            return parts.Length == 2 && parts[1] is "exp_avg" or "exp_avg_sq"
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < names.Length
                ? names[i] : null;
        };
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on the same data. Only the total number of
    /// steps (<paramref name="steps"/>) and the bookkeeping that leaves the loss curve alone
    /// (<paramref name="bookkeeping"/>: checkpoint and log intervals, preview size) may change; everything else
    /// comes from the checkpoint. Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static EdmTrainer Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null,
        Func<TrainerOptions, TrainerOptions>? bookkeeping = null)
    {
        CheckpointKind.RequireTraining(checkpoint, "dk train --resume", CheckpointKind.EdmMethod);
        var header = SafeTensors.ReadHeader(checkpoint);
        string Meta(string key) => header.Metadata.TryGetValue(key, out var v) ? v
            : throw new SafeTensorsFormatException(checkpoint, $"not a training checkpoint: metadata '{key}' is missing");
        var options = TrainerOptions.FromJson(Meta(OptionsKey));
        if (steps is { } s) options = options with { Steps = s };
        if (bookkeeping != null)
        {
            var changed = bookkeeping(options);
            if (changed with { CheckpointEvery = options.CheckpointEvery, LogEvery = options.LogEvery, PreviewSamples = options.PreviewSamples } != options)
                throw new ArgumentException($"{checkpoint}: on resume only the step count, checkpoint and log intervals and preview size may change");
            options = changed;
        }
        if (Meta(DataKey) != data.Name)
            throw new ArgumentException($"{checkpoint}: the run trained on '{Meta(DataKey)}', not '{data.Name}'; resume on the same data");
        long step = ParseLong(checkpoint, StepKey, Meta(StepKey));
        if (step > options.Steps)
            throw new ArgumentException($"{checkpoint}: the run is already at step {step}, beyond the requested {options.Steps} steps");

        var model = ModelFactory.Create(Meta(ModelFactory.KindKey), Meta(ModelFactory.ConfigKey), new Generator(0), device);
        EdmTrainer? trainer = null;
        try
        {
            trainer = new EdmTrainer(model, data, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)), step,
                (ulong)ParseLong(checkpoint, DataRngKey, Meta(DataRngKey)), (ulong)ParseLong(checkpoint, NoiseRngKey, Meta(NoiseRngKey)))
            {
                Skipped = ParseLong(checkpoint, SkippedKey, Meta(SkippedKey)),
                _consecutiveSkips = (int)ParseLong(checkpoint, ConsecutiveKey, Meta(ConsecutiveKey)),
                SamplingDefaults = SamplerDefaults.Of(header.Metadata),
            };
            using var scope = Tensor.Scope();
            var tensors = ModelFactory.ReadTensors(checkpoint, model, ParameterOf(model), device);
            model.LoadStateDict(Strip(tensors, WeightsPrefix));
            trainer._ema.Load(tensors.Where(kv => !kv.Key.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value));
            trainer._adam.LoadStateDict(Strip(tensors, AdamPrefix));
            RunProvenance.Continue(trainer, header.Metadata);
            return trainer;
        }
        catch
        {
            if (trainer != null) trainer.Dispose();
            else model.Dispose();
            throw;
        }
    }

    private static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    private static long ParseLong(string path, string key, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{value}' is not a whole number ≥ 0");

    private static string Invariant(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);
}
