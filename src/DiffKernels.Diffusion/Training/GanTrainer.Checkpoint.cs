using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

public sealed partial class GanTrainer
{
    /// <summary>Metadata value of <see cref="MethodKey"/> in GAN training checkpoints.</summary>
    public const string Method = "gan";

    /// <summary>Metadata key naming the training method that wrote a checkpoint.</summary>
    public const string MethodKey = ModelFactory.TrainingPrefix + "method";

    /// <summary>Metadata key holding the training data's spec.</summary>
    public const string DataKey = ModelFactory.TrainingPrefix + "data";

    // Previews have their own seed so they never touch the run's streams.
    private const ulong PreviewSeed = 0x5EED;

    private const string GeneratorPrefix = ModelFactory.TrainingPrefix + "generator.";
    private const string DiscriminatorPrefix = ModelFactory.TrainingPrefix + "disc.";
    private const string GeneratorAdamPrefix = ModelFactory.TrainingPrefix + "adam_generator.";
    private const string DiscriminatorAdamPrefix = ModelFactory.TrainingPrefix + "adam_disc.";
    private const string DiscriminatorConfigKey = ModelFactory.TrainingPrefix + "disc_config";
    private const string StepKey = ModelFactory.TrainingPrefix + "step";
    private const string SkippedKey = ModelFactory.TrainingPrefix + "skipped";
    private const string ConsecutiveKey = ModelFactory.TrainingPrefix + "consecutive_skips";
    private const string OptionsKey = ModelFactory.TrainingPrefix + "options";
    private const string DataRngKey = ModelFactory.TrainingPrefix + "rng.data";
    private const string NoiseRngKey = ModelFactory.TrainingPrefix + "rng.noise";

    /// <summary>
    /// Writes the whole state to <paramref name="path"/> atomically: the generator's EMA weights under its own names
    /// with its sampling metadata, the data spec and crop (what `dk sample` and `dk eval` load), the raw generator and
    /// the discriminator, both Adam states, the step, skip counters, RNG offsets and options.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        using var scope = Tensor.Scope();
        var extra = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Generator.StateDict()) extra.Add(GeneratorPrefix + name, t);
        foreach (var (name, t) in _generatorAdam.StateDict()) extra.Add(GeneratorAdamPrefix + name, t);
        // ModelFactory lays out what mirrors the generator; the discriminator's state is laid out here.
        var disc = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Discriminator.StateDict()) disc.Add(DiscriminatorPrefix + name, t);
        foreach (var (name, t) in _discriminatorAdam.StateDict()) disc.Add(DiscriminatorAdamPrefix + name, t);
        foreach (var (name, t) in CheckpointLayout.ToFile(disc, Discriminator, DiscriminatorParameterOf(Discriminator))) extra.Add(name, t);
        var metadata = new Dictionary<string, string>(Generator.SamplingMetadata)
        {
            [MethodKey] = Method,
            [DiscriminatorConfigKey] = Discriminator.Config.ToJson(),
            [StepKey] = Invariant(Step),
            [SkippedKey] = Invariant(Skipped),
            [ConsecutiveKey] = Invariant(_consecutiveSkips),
            [OptionsKey] = Options.ToJson(),
            [DataKey] = Data.Name,
            [DataRngKey] = Invariant(_dataGen.Offset),
            [NoiseRngKey] = Invariant(_noiseGen.Offset),
        };
        if (Data.Crop > 0) metadata[EdmTrainer.CropKey] = Invariant(Data.Crop);
        ModelFactory.Save(path, Generator, _ema.Shadow, extra, metadata, GeneratorParameterOf(Generator));
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/> on the same data. Only the total number of iterations
    /// (<paramref name="steps"/>) and the bookkeeping that leaves the loss curve alone (<paramref name="bookkeeping"/>:
    /// checkpoint and log intervals, preview size) may change. Output goes to <paramref name="outDir"/> (default: the
    /// checkpoint's directory).
    /// </summary>
    public static GanTrainer Resume(string checkpoint, IDataSource data, int? steps = null, string? outDir = null, Device? device = null,
        Func<GanOptions, GanOptions>? bookkeeping = null)
    {
        var header = SafeTensors.ReadHeader(checkpoint);
        string Meta(string key) => header.Metadata.TryGetValue(key, out var v) ? v
            : throw new SafeTensorsFormatException(checkpoint, $"not a GAN training checkpoint: metadata '{key}' is missing");
        if (Meta(MethodKey) != Method)
            throw new ArgumentException($"{checkpoint}: written by '{Meta(MethodKey)}', not by GAN training");
        var options = GanOptions.FromJson(Meta(OptionsKey));
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
        if (Meta(ModelFactory.KindKey) != GanConfig.GeneratorKind)
            throw new ArgumentException($"{checkpoint}: holds a '{Meta(ModelFactory.KindKey)}' model, not a {GanConfig.GeneratorKind}");

        GanGenerator? generator = null;
        GanDiscriminator? discriminator = null;
        GanTrainer? trainer = null;
        try
        {
            generator = new GanGenerator(GanConfig.FromJson(Meta(ModelFactory.ConfigKey)), new Generator(0), device);
            discriminator = new GanDiscriminator(GanConfig.FromJson(Meta(DiscriminatorConfigKey)), new Generator(0), device);
            trainer = new GanTrainer(generator, discriminator, data, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)), step,
                (ulong)ParseLong(checkpoint, DataRngKey, Meta(DataRngKey)), (ulong)ParseLong(checkpoint, NoiseRngKey, Meta(NoiseRngKey)))
            {
                Skipped = ParseLong(checkpoint, SkippedKey, Meta(SkippedKey)),
                _consecutiveSkips = (int)ParseLong(checkpoint, ConsecutiveKey, Meta(ConsecutiveKey)),
            };
            using var scope = Tensor.Scope();
            var tensors = ModelFactory.ReadTensors(checkpoint, generator, GeneratorParameterOf(generator), device);
            var discTensors = CheckpointLayout.FromFile(tensors.Where(kv => kv.Key.StartsWith(DiscriminatorPrefix, StringComparison.Ordinal)
                || kv.Key.StartsWith(DiscriminatorAdamPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value),
                discriminator, DiscriminatorParameterOf(discriminator));
            generator.LoadStateDict(Strip(tensors, GeneratorPrefix));
            discriminator.LoadStateDict(Strip(discTensors, DiscriminatorPrefix));
            trainer._ema.Load(tensors.Where(kv => !kv.Key.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value));
            trainer._generatorAdam.LoadStateDict(Strip(tensors, GeneratorAdamPrefix));
            trainer._discriminatorAdam.LoadStateDict(Strip(discTensors, DiscriminatorAdamPrefix));
            return trainer;
        }
        catch
        {
            if (trainer != null) trainer.Dispose();
            else
            {
                generator?.Dispose();
                discriminator?.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// <paramref name="n"/> images of the generator's EMA weights from latents drawn by Generator(<paramref name="seed"/>)
    /// (conditional generators get labels i mod classes), owned by the current scope: the images `dk sample --seed`
    /// draws from the checkpoint. The raw weights are restored afterwards.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"GanTrainer: sample count {n} must be ≥ 1");
        Tensor result;
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var raw = Generator.StateDict().ToDictionary(kv => kv.Key, kv => F.Copy(kv.Value));
            Generator.LoadStateDict(_ema.Shadow);
            try
            {
                result = Sampling.GeneratorSampler.Generate(Generator, n, seed, n, device: _device).Samples.Keep();
            }
            finally
            {
                Generator.LoadStateDict(raw);
            }
        }
        return result;
    }

    /// <summary>Writes a grid of <see cref="GanOptions.PreviewSamples"/> EMA images (at most 100) to <paramref name="path"/>.</summary>
    public void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        ImageGrid.Save(path, SampleEma(Math.Clamp(Options.PreviewSamples, 1, 100), PreviewSeed));
    }

    private static Func<string, string?> GeneratorParameterOf(Module generator) => MirroredState.ParameterOf(generator, GeneratorPrefix, GeneratorAdamPrefix);

    private static Func<string, string?> DiscriminatorParameterOf(Module discriminator) => MirroredState.ParameterOf(discriminator, DiscriminatorPrefix, DiscriminatorAdamPrefix);

    private static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    private static long ParseLong(string path, string key, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{value}' is not a whole number ≥ 0");
}
