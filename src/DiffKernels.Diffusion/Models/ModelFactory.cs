using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>A model read from a checkpoint, with the file's metadata. Disposing it releases the weights.</summary>
/// <param name="Kind">The "model" metadata value (e.g. "mlp").</param>
/// <param name="Model">The network with the checkpoint's weights loaded.</param>
/// <param name="Metadata">Every metadata entry of the file.</param>
public sealed record LoadedModel(string Kind, Module Model, IReadOnlyDictionary<string, string> Metadata) : IDisposable
{
    /// <summary>The model as a denoiser network; throws when this kind is not one.</summary>
    public INoiseNet Net => Model as INoiseNet
        ?? throw new InvalidOperationException($"model kind '{Kind}' is not a noise network");

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Saves and rebuilds models from self-describing safetensors files: the weights under their
/// parameter names, metadata "model" (the kind) and "config" (its JSON), so loading needs only the
/// path. Tensors and metadata whose names start with <see cref="TrainingPrefix"/> belong to the
/// trainer (optimiser state, raw weights, RNG offsets) and are ignored when loading a model.
/// </summary>
public static class ModelFactory
{
    /// <summary>Metadata key holding the model kind.</summary>
    public const string KindKey = "model";

    /// <summary>Metadata key holding the model's JSON config.</summary>
    public const string ConfigKey = "config";

    /// <summary>Prefix of the tensor and metadata names reserved for training state.</summary>
    public const string TrainingPrefix = "train.";

    /// <summary>The kinds <see cref="Create"/> knows.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [MlpConfig.Kind, UNetConfig.Kind, DiTConfig.Kind, ClassifierConfig.Kind, GanConfig.GeneratorKind, GanConfig.DiscriminatorKind];

    /// <summary>Builds a freshly initialised model of <paramref name="kind"/> from its JSON config.</summary>
    public static Module Create(string kind, string configJson, Generator? gen = null, Device? device = null) => kind switch
    {
        MlpConfig.Kind => new Mlp(MlpConfig.FromJson(configJson), gen, device),
        UNetConfig.Kind => new UNet(UNetConfig.FromJson(configJson), gen, device),
        DiTConfig.Kind => new DiT(DiTConfig.FromJson(configJson), gen, device),
        ClassifierConfig.Kind => new Classifier(ClassifierConfig.FromJson(configJson), gen, device),
        GanConfig.GeneratorKind => new GanGenerator(GanConfig.FromJson(configJson), gen, device),
        GanConfig.DiscriminatorKind => new GanDiscriminator(GanConfig.FromJson(configJson), gen, device),
        _ => throw new ArgumentException($"unknown model kind '{kind}'; known kinds: {string.Join(", ", Kinds)}"),
    };

    /// <summary>The model names <see cref="FromPreset"/> accepts (e.g. on the command line).</summary>
    public static IReadOnlyList<string> Presets { get; } = ["mlp", "unet-xs", "unet-s", "dit-s4"];

    /// <summary>
    /// A freshly initialised model by preset name, shaped for data of <paramref name="sampleShape"/> with
    /// <paramref name="numClasses"/> classes (0: unconditional).
    /// </summary>
    public static Module FromPreset(string preset, Shape sampleShape, int numClasses, Generator? gen = null, Device? device = null) => preset switch
    {
        "mlp" when sampleShape.Rank == 1 => new Mlp(new MlpConfig(Dim: sampleShape[0], NumClasses: numClasses), gen, device),
        "mlp" => throw new ArgumentException($"model 'mlp' takes vectors, not samples of shape {sampleShape}"),
        "unet-xs" or "unet-s" or "dit-s4" when !IsSquareImage(sampleShape) =>
            throw new ArgumentException($"model '{preset}' takes square images [H, W, C], not samples of shape {sampleShape}"),
        "unet-xs" => new UNet(UNetConfig.XS(numClasses) with { ImageSize = sampleShape[0], Channels = sampleShape[2] }, gen, device),
        "unet-s" => new UNet(UNetConfig.S(numClasses) with { ImageSize = sampleShape[0], Channels = sampleShape[2] }, gen, device),
        "dit-s4" => new DiT(DiTConfig.S4(numClasses) with { ImageSize = sampleShape[0], Channels = sampleShape[2] }, gen, device),
        _ => throw new ArgumentException($"unknown model '{preset}'; expected one of {string.Join(", ", Presets)}"),
    };

    private static bool IsSquareImage(Shape s) => s.Rank == 3 && s[0] == s[1];

    /// <summary>The kind and JSON config of <paramref name="model"/>, as stored in its checkpoint.</summary>
    public static (string Kind, string ConfigJson) Describe(Module model) => model switch
    {
        Mlp m => (MlpConfig.Kind, m.Config.ToJson()),
        UNet u => (UNetConfig.Kind, u.Config.ToJson()),
        DiT d => (DiTConfig.Kind, d.Config.ToJson()),
        Classifier c => (ClassifierConfig.Kind, c.Config.ToJson()),
        GanGenerator g => (GanConfig.GeneratorKind, g.Config.ToJson()),
        GanDiscriminator d => (GanConfig.DiscriminatorKind, d.Config.ToJson()),
        _ => throw new ArgumentException($"ModelFactory: {model.GetType().Name} has no checkpoint kind"),
    };

    /// <summary>
    /// Writes <paramref name="model"/>'s kind and config and, under its parameter names, either its own
    /// weights or <paramref name="weights"/> (e.g. an EMA of them: same names and shapes), atomically;
    /// plus optional extra tensors and metadata (training state: names must start with <see cref="TrainingPrefix"/>).
    /// Convolution weights are written in OIHW (<see cref="CheckpointLayout"/>), and so is every extra tensor
    /// that <paramref name="extraParameterOf"/> maps to one (null: an extra tensor mirrors no parameter).
    /// </summary>
    public static void Save(string path, Module model, IReadOnlyDictionary<string, Tensor>? weights = null,
        IReadOnlyDictionary<string, Tensor>? extraTensors = null, IReadOnlyDictionary<string, string>? extraMetadata = null,
        Func<string, string?>? extraParameterOf = null)
    {
        var (kind, config) = Describe(model);
        var own = model.StateDict();
        weights ??= own;
        if (weights.Count != own.Count || own.Any(kv => !weights.TryGetValue(kv.Key, out var w) || w.Shape != kv.Value.Shape))
            throw new ArgumentException($"ModelFactory.Save: the weights to write do not match the parameters of {kind} (names or shapes differ)");
        var tensors = new Dictionary<string, Tensor>(weights);
        foreach (var (name, t) in extraTensors ?? new Dictionary<string, Tensor>())
        {
            if (!name.StartsWith(TrainingPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"ModelFactory.Save: extra tensor '{name}' must start with '{TrainingPrefix}'");
            tensors.Add(name, t);
        }
        var metadata = new Dictionary<string, string> { [KindKey] = kind, [ConfigKey] = config, [CheckpointLayout.ConvLayoutKey] = CheckpointLayout.ConvLayout };
        foreach (var (key, value) in extraMetadata ?? new Dictionary<string, string>())
        {
            if (key is KindKey or ConfigKey or CheckpointLayout.ConvLayoutKey)
                throw new ArgumentException($"ModelFactory.Save: metadata key '{key}' is reserved");
            metadata.Add(key, value);
        }
        using var scope = Tensor.Scope();
        SafeTensors.Save(path, CheckpointLayout.ToFile(tensors, model, ParameterOf(extraParameterOf)), metadata);
    }

    /// <summary>
    /// Reads every tensor of <paramref name="path"/> (model weights and training state) in memory layout for
    /// <paramref name="model"/>: the inverse of <see cref="Save"/> with the same <paramref name="extraParameterOf"/>.
    /// The tensors belong to the current scope.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> ReadTensors(string path, Module model, Func<string, string?>? extraParameterOf = null, Device? device = null)
    {
        var file = SafeTensors.Load(path, device);
        CheckpointLayout.CheckMetadata(path, file.Metadata);
        return CheckpointLayout.FromFile(file.Tensors, model, ParameterOf(extraParameterOf));
    }

    // Untagged names are the model's own parameters; training-state names are resolved by the caller.
    private static Func<string, string?> ParameterOf(Func<string, string?>? extra) =>
        name => name.StartsWith(TrainingPrefix, StringComparison.Ordinal) ? extra?.Invoke(name) : name;

    /// <summary>Reads a model written by <see cref="Save"/>; training state in the file is skipped.</summary>
    public static LoadedModel Load(string path, Device? device = null)
    {
        var header = SafeTensors.ReadHeader(path);
        if (!header.Metadata.TryGetValue(KindKey, out var kind) || !header.Metadata.TryGetValue(ConfigKey, out var config))
            throw new SafeTensorsFormatException(path, $"not a model checkpoint: metadata '{KindKey}' and '{ConfigKey}' are required");
        Module model;
        try
        {
            model = Create(kind, config, new Generator(0), device);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException)
        {
            throw new SafeTensorsFormatException(path, $"cannot build model '{kind}' from its config: {e.Message}", e);
        }
        try
        {
            using var scope = Tensor.Scope();
            var weights = ReadTensors(path, model, device: device).Where(kv => !kv.Key.StartsWith(TrainingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value);
            model.LoadStateDict(weights);
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            throw new SafeTensorsFormatException(path, $"weights do not fit model '{kind}': {e.Message}", e);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new LoadedModel(kind, model, header.Metadata);
    }
}
