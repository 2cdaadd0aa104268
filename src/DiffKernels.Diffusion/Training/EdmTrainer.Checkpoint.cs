using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
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
        ModelFactory.Save(path, Model, _ema.Shadow, extra, metadata);
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on the same data. Only the total number of
    /// steps may change (<paramref name="steps"/>); everything else comes from the checkpoint. Output goes to
    /// <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static EdmTrainer Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null)
    {
        var header = SafeTensors.ReadHeader(checkpoint);
        string Meta(string key) => header.Metadata.TryGetValue(key, out var v) ? v
            : throw new SafeTensorsFormatException(checkpoint, $"not a training checkpoint: metadata '{key}' is missing");
        var options = TrainerOptions.FromJson(Meta(OptionsKey));
        if (steps is { } s) options = options with { Steps = s };
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
            };
            using var scope = Tensor.Scope();
            var file = SafeTensors.Load(checkpoint, device);
            model.LoadStateDict(Strip(file.Tensors, WeightsPrefix));
            trainer._ema.Load(file.Tensors.Where(kv => !kv.Key.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value));
            trainer._adam.LoadStateDict(Strip(file.Tensors, AdamPrefix));
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
