using System.Globalization;
using DiffKernels.IO;

namespace DiffKernels.Diffusion.Models;

/// <summary>What the network of a checkpoint is for.</summary>
public enum ModelRole
{
    /// <summary>A denoiser trained by EDM: a teacher, sampled with an ODE solver.</summary>
    Teacher,

    /// <summary>A denoiser distilled into a one- or few-step student (Euler steps on the levels it records).</summary>
    Student,

    /// <summary>A generator network (a GAN's, possibly refined by distillation): one evaluation per sample.</summary>
    GanGenerator,

    /// <summary>A GAN discriminator.</summary>
    GanDiscriminator,

    /// <summary>The metric classifier of the image metrics.</summary>
    Classifier,
}

/// <summary>
/// What a checkpoint file is, read from its header alone: a release checkpoint (sampling weights, config, sampler
/// defaults and provenance: what `dk sample`, `dk eval` and distillation teachers read) or a training checkpoint
/// (the same plus the whole training state under <see cref="ModelFactory.TrainingPrefix"/>, for an exact resume);
/// the role of its network; and for a training checkpoint, which run wrote it and at what step. The Require
/// helpers are how every reader checks its input: they throw a one-line <see cref="SafeTensorsFormatException"/>
/// naming the file, what it holds, what is needed and the command that fixes it.
/// </summary>
/// <param name="Path">The file, as given.</param>
/// <param name="IsTraining">True when the file holds training state.</param>
/// <param name="Role">What its network is for.</param>
/// <param name="Model">The model kind its metadata records (e.g. "unet").</param>
/// <param name="Method">The run that wrote it ("edm", "gan", "diff-instruct", "boot"), or null when none is recorded.</param>
/// <param name="Step">The step of a training checkpoint (null for a release checkpoint).</param>
public sealed record CheckpointKind(string Path, bool IsTraining, ModelRole Role, string Model, string? Method, long? Step)
{
    /// <summary>The method EDM teacher training records (its checkpoints name no method of their own).</summary>
    public const string EdmMethod = "edm";

    private const string GanMethod = "gan";

    /// <summary>
    /// A fact a checkpoint records under <paramref name="key"/> in a release checkpoint and under
    /// "train.<paramref name="key"/>" in a training one ("data", "method", "step", "teacher", "teacher_sha256",
    /// "init_from", "init_from_sha256", "sessions"), or null when neither is present.
    /// </summary>
    public static string? Recorded(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var v) ? v : metadata.GetValueOrDefault(ModelFactory.TrainingPrefix + key);

    /// <summary>The data spec the model was trained on (release "data", training "train.data"), or null.</summary>
    public static string? DataSpec(IReadOnlyDictionary<string, string> metadata) => Recorded(metadata, "data");

    /// <summary>Classifies the checkpoint at <paramref name="path"/> from its header; a file that is no model checkpoint throws.</summary>
    public static CheckpointKind Of(string path)
    {
        var header = SafeTensors.ReadHeader(path);
        return Of(path, header.Metadata, header.Tensors.Select(t => t.Name));
    }

    /// <summary>Classifies a checkpoint from its metadata and tensor names.</summary>
    public static CheckpointKind Of(string path, IReadOnlyDictionary<string, string> metadata, IEnumerable<string> tensorNames)
    {
        if (!metadata.TryGetValue(ModelFactory.KindKey, out var model))
            throw new SafeTensorsFormatException(path, $"not a model checkpoint: metadata '{ModelFactory.KindKey}' is missing");
        bool training = metadata.ContainsKey(Training.CheckpointKeys.Step)
            || tensorNames.Any(n => n.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal));
        string? method = Recorded(metadata, "method") ?? (training ? EdmMethod : null);
        var role = model switch
        {
            ClassifierConfig.Kind => ModelRole.Classifier,
            GanConfig.GeneratorKind => ModelRole.GanGenerator,
            GanConfig.DiscriminatorKind => ModelRole.GanDiscriminator,
            MlpConfig.Kind or UNetConfig.Kind or DiTConfig.Kind =>
                method is null or EdmMethod or GanMethod ? ModelRole.Teacher : ModelRole.Student,
            _ => throw new SafeTensorsFormatException(path, $"unknown model kind '{model}'; known kinds: {string.Join(", ", ModelFactory.Kinds)}"),
        };
        long? step = null;
        if (training && metadata.TryGetValue(Training.CheckpointKeys.Step, out var s))
            step = long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                : throw new SafeTensorsFormatException(path, $"metadata 'train.step' = '{s}' is not a whole number ≥ 0");
        return new CheckpointKind(path, training, role, model, method, step);
    }

    /// <summary>True for a network that draws samples: a teacher, a distilled student or a generator.</summary>
    public bool DrawsSamples => Role is ModelRole.Teacher or ModelRole.Student or ModelRole.GanGenerator;

    /// <summary>In words, e.g. "a training checkpoint of a teacher (unet; edm run at step 12000)".</summary>
    public string Description
    {
        get
        {
            string run = IsTraining ? $"; {Method} run" + (Step is { } s ? $" at step {s}" : "") : "";
            return $"a {(IsTraining ? "training" : "release")} checkpoint of {Name(Role)} ({Model}{run})";
        }
    }

    /// <summary>
    /// Checks that <paramref name="path"/> holds one of <paramref name="roles"/>, as a release or a training checkpoint
    /// alike (sampling and evaluation read the EMA weights of either); <paramref name="purpose"/> names the reader
    /// (e.g. "dk sample --model").
    /// </summary>
    public static CheckpointKind RequireModel(string path, string purpose, params ModelRole[] roles)
    {
        var kind = Of(path);
        if (!roles.Contains(kind.Role)) throw kind.Refusal(purpose, $"a checkpoint of {Names(roles)}", null);
        return kind;
    }

    /// <summary>Checks that <paramref name="path"/> is a release checkpoint of one of <paramref name="roles"/>.</summary>
    public static CheckpointKind RequireRelease(string path, string purpose, params ModelRole[] roles)
    {
        var kind = Of(path);
        string needed = $"a release checkpoint of {Names(roles)}";
        if (!roles.Contains(kind.Role)) throw kind.Refusal(purpose, needed, null);
        if (kind.IsTraining)
            throw kind.Refusal(purpose, needed, $"export it first: dk export --model {path} --out {System.IO.Path.GetFileNameWithoutExtension(path)}-release.safetensors");
        return kind;
    }

    /// <summary>
    /// Checks that <paramref name="path"/> is a training checkpoint, written by a <paramref name="method"/> run when
    /// given (an exact resume needs the state of the same kind of run).
    /// </summary>
    public static CheckpointKind RequireTraining(string path, string purpose, string? method = null)
    {
        var kind = Of(path);
        string needed = "a training checkpoint" + (method != null ? $" written by {method} training" : "");
        if (!kind.IsTraining)
        {
            string hint = kind.Role switch
            {
                ModelRole.Teacher => $"a release checkpoint holds no training state; start a new run from its weights with dk train --init-from {path}",
                ModelRole.GanGenerator => $"a release checkpoint holds no training state; start a new run from its weights with dk train-gan --init-from {path}",
                _ => "a release checkpoint holds no training state to resume",
            };
            throw kind.Refusal(purpose, needed, hint);
        }
        if (method != null && kind.Method != method)
            throw kind.Refusal(purpose, needed, ResumeCommand(kind.Method) is { } resume ? $"continue it with {resume}" : null);
        return kind;
    }

    private static string? ResumeCommand(string? method) => method switch
    {
        EdmMethod => "dk train --resume",
        GanMethod => "dk train-gan --resume",
        "diff-instruct" => "dk distill diff-instruct --resume",
        "pd" => "dk distill pd --resume",
        "dmd2" => "dk distill dmd2 --resume",
        "boot" => "dk distill boot --resume",
        _ => null,
    };

    private SafeTensorsFormatException Refusal(string purpose, string needed, string? hint) =>
        new(Path, $"{Description}; {purpose} needs {needed}" + (hint != null ? $": {hint}" : ""));

    private static string Names(IEnumerable<ModelRole> roles)
    {
        var names = roles.Select(Name).ToList();
        return names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " or " + names[^1];
    }

    private static string Name(ModelRole role) => role switch
    {
        ModelRole.Teacher => "a teacher",
        ModelRole.Student => "a distilled student",
        ModelRole.GanGenerator => "a GAN generator",
        ModelRole.GanDiscriminator => "a GAN discriminator",
        _ => "a classifier",
    };
}
