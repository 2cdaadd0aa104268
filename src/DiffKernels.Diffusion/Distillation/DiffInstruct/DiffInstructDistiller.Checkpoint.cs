using System.Globalization;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

public sealed partial class DiffInstructDistiller
{
    /// <summary>Metadata value of <see cref="MethodKey"/> in Diff-Instruct checkpoints.</summary>
    public const string Method = "diff-instruct";

    /// <summary>Metadata key naming the distillation method that wrote a checkpoint.</summary>
    public const string MethodKey = ModelFactory.TrainingPrefix + "method";

    /// <summary>Metadata key holding the teacher checkpoint's path, as it was given.</summary>
    public const string TeacherKey = ModelFactory.TrainingPrefix + "teacher";

    /// <summary>Metadata key holding the teacher checkpoint's SHA-256.</summary>
    public const string TeacherHashKey = ModelFactory.TrainingPrefix + "teacher_sha256";

    private const string GeneratorPrefix = ModelFactory.TrainingPrefix + "generator.";
    private const string AuxiliaryPrefix = ModelFactory.TrainingPrefix + "aux.";
    private const string GeneratorAdamPrefix = ModelFactory.TrainingPrefix + "adam_generator.";
    private const string AuxiliaryAdamPrefix = ModelFactory.TrainingPrefix + "adam_aux.";
    private const string AuxiliaryKindKey = ModelFactory.TrainingPrefix + "aux_model";
    private const string AuxiliaryConfigKey = ModelFactory.TrainingPrefix + "aux_config";
    private const string StepKey = ModelFactory.TrainingPrefix + "step";
    private const string SkippedKey = ModelFactory.TrainingPrefix + "skipped";
    private const string ConsecutiveKey = ModelFactory.TrainingPrefix + "consecutive_skips";
    private const string OptionsKey = ModelFactory.TrainingPrefix + "options";
    private const string RngKey = ModelFactory.TrainingPrefix + "rng";
    private const string DataKey = ModelFactory.TrainingPrefix + "data";

    /// <summary>
    /// Writes the whole state to <paramref name="path"/> atomically: the generator's EMA weights under its own
    /// names with its sampling metadata (what `dk sample` and `dk eval` load), the raw generator and auxiliary
    /// weights, both Adam states, the step, skip counters, RNG offset, options, and the teacher's path and hash.
    /// The teacher's data spec and crop are carried over so the student evaluates against the same data.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        using var scope = Tensor.Scope();
        var extra = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Generator.Module.StateDict()) extra.Add(GeneratorPrefix + name, t);
        foreach (var (name, t) in _generatorAdam.StateDict()) extra.Add(GeneratorAdamPrefix + name, t);
        // ModelFactory lays out what mirrors the generator; the auxiliary network's state is laid out here.
        var aux = new Dictionary<string, Tensor>();
        foreach (var (name, t) in Auxiliary.StateDict()) aux.Add(AuxiliaryPrefix + name, t);
        foreach (var (name, t) in _auxiliaryAdam.StateDict()) aux.Add(AuxiliaryAdamPrefix + name, t);
        foreach (var (name, t) in CheckpointLayout.ToFile(aux, Auxiliary, AuxiliaryParameterOf(Auxiliary))) extra.Add(name, t);
        var (auxKind, auxConfig) = ModelFactory.Describe(Auxiliary);
        var metadata = new Dictionary<string, string>(Generator.SamplingMetadata)
        {
            [MethodKey] = Method,
            [AuxiliaryKindKey] = auxKind,
            [AuxiliaryConfigKey] = auxConfig,
            [StepKey] = Invariant(Step),
            [SkippedKey] = Invariant(Skipped),
            [ConsecutiveKey] = Invariant(_consecutiveSkips),
            [OptionsKey] = Options.ToJson(),
            [RngKey] = Invariant(_rng.Offset),
        };
        if (Teacher.Path is { } teacherPath) metadata[TeacherKey] = teacherPath;
        if (Teacher.Sha256 is { } hash) metadata[TeacherHashKey] = hash;
        if (Teacher.DataSpec is { } data) metadata[DataKey] = data;
        if (Teacher.Metadata.TryGetValue(EdmTrainer.CropKey, out var crop)) metadata[EdmTrainer.CropKey] = crop;
        RunProvenance.Stamp(this, metadata);
        ModelFactory.Save(path, Generator.Module, _ema.Shadow, extra, metadata, GeneratorParameterOf(Generator.Module));
    }

    /// <summary>
    /// Continues the run saved in <paramref name="checkpoint"/>. The teacher is <paramref name="teacher"/> when
    /// given (it must hash like the recorded one, and then belongs to the distiller), else the recorded file.
    /// Only the total number of iterations (<paramref name="steps"/>) and what <paramref name="changes"/> may alter
    /// change: the checkpoint and log intervals, the preview size and the two learning rates (a run continued at
    /// lower rates keeps its Adam moments; its log shows the rates of every line). Everything else comes from the
    /// checkpoint. Output goes to <paramref name="outDir"/> (default: the checkpoint's directory).
    /// </summary>
    public static DiffInstructDistiller Resume(string checkpoint, FrozenTeacher? teacher = null, int? steps = null, string? outDir = null, Device? device = null,
        Func<DiffInstructOptions, DiffInstructOptions>? changes = null)
    {
        CheckpointKind.RequireTraining(checkpoint, "dk distill diff-instruct --resume", Method);
        var header = SafeTensors.ReadHeader(checkpoint);
        string Meta(string key) => header.Metadata.TryGetValue(key, out var v) ? v
            : throw new SafeTensorsFormatException(checkpoint, $"not a Diff-Instruct checkpoint: metadata '{key}' is missing");
        if (Meta(MethodKey) != Method)
            throw new ArgumentException($"{checkpoint}: written by '{Meta(MethodKey)}', not {Method}");
        var options = DiffInstructOptions.FromJson(Meta(OptionsKey));
        if (steps is { } s) options = options with { Steps = s };
        if (changes != null)
        {
            var changed = changes(options);
            if (changed with
                {
                    CheckpointEvery = options.CheckpointEvery, LogEvery = options.LogEvery, PreviewSamples = options.PreviewSamples,
                    GeneratorLr = options.GeneratorLr, AuxiliaryLr = options.AuxiliaryLr,
                } != options)
                throw new ArgumentException($"{checkpoint}: on resume only the step count, checkpoint and log intervals, preview size and learning rates may change");
            changed.Validate();
            options = changed;
        }
        long step = ParseLong(checkpoint, StepKey, Meta(StepKey));
        if (step > options.Steps)
            throw new ArgumentException($"{checkpoint}: the run is already at step {step}, beyond the requested {options.Steps} steps");
        string? recordedHash = header.Metadata.GetValueOrDefault(TeacherHashKey);

        bool ownTeacher = teacher == null;
        if (teacher == null)
        {
            string teacherPath = header.Metadata.GetValueOrDefault(TeacherKey)
                ?? throw new ArgumentException($"{checkpoint} does not record its teacher's file; pass the teacher");
            if (!File.Exists(teacherPath))
                throw new ArgumentException($"{checkpoint}: its teacher {teacherPath} does not exist; pass the teacher");
            teacher = FrozenTeacher.Load(teacherPath, device);
        }
        Module? generatorModule = null, auxiliary = null;
        DiffInstructDistiller? distiller = null;
        try
        {
            if (recordedHash != null && teacher.Sha256 != null && teacher.Sha256 != recordedHash)
                throw new ArgumentException($"{checkpoint}: the teacher {teacher.Path} (SHA-256 {teacher.Sha256[..12]}…) is not the one this run distils (SHA-256 {recordedHash[..Math.Min(12, recordedHash.Length)]}…)");
            var at = device ?? teacher.Device;
            generatorModule = ModelFactory.Create(Meta(ModelFactory.KindKey), Meta(ModelFactory.ConfigKey), new Generator(0), at);
            var generator = GeneratorCheckpoint.Wrap(generatorModule, header.Metadata);
            auxiliary = ModelFactory.Create(Meta(AuxiliaryKindKey), Meta(AuxiliaryConfigKey), new Generator(0), at);
            distiller = new DiffInstructDistiller(teacher, generator, auxiliary, options, outDir ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint)),
                step, (ulong)ParseLong(checkpoint, RngKey, Meta(RngKey)))
            {
                Skipped = ParseLong(checkpoint, SkippedKey, Meta(SkippedKey)),
                _consecutiveSkips = (int)ParseLong(checkpoint, ConsecutiveKey, Meta(ConsecutiveKey)),
            };
            using var scope = Tensor.Scope();
            var tensors = ModelFactory.ReadTensors(checkpoint, generatorModule, GeneratorParameterOf(generatorModule), at);
            var auxTensors = CheckpointLayout.FromFile(tensors.Where(kv => kv.Key.StartsWith(AuxiliaryPrefix, StringComparison.Ordinal)
                || kv.Key.StartsWith(AuxiliaryAdamPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value),
                auxiliary, AuxiliaryParameterOf(auxiliary));
            generatorModule.LoadStateDict(Strip(tensors, GeneratorPrefix));
            auxiliary.LoadStateDict(Strip(auxTensors, AuxiliaryPrefix));
            distiller._ema.Load(tensors.Where(kv => !kv.Key.StartsWith(ModelFactory.TrainingPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key, kv => kv.Value));
            distiller._generatorAdam.LoadStateDict(Strip(tensors, GeneratorAdamPrefix));
            distiller._auxiliaryAdam.LoadStateDict(Strip(auxTensors, AuxiliaryAdamPrefix));
            RunProvenance.Continue(distiller, header.Metadata);
            return distiller;
        }
        catch
        {
            if (distiller != null)
            {
                // The distiller owns the teacher now; keep a caller's teacher alive.
                distiller._generatorAdam.Dispose();
                distiller._auxiliaryAdam.Dispose();
                distiller._ema.Dispose();
            }
            generatorModule?.Dispose();
            auxiliary?.Dispose();
            if (ownTeacher) teacher.Dispose();
            throw;
        }
    }

    private static Func<string, string?> GeneratorParameterOf(Module generator) => MirroredState.ParameterOf(generator, GeneratorPrefix, GeneratorAdamPrefix);

    private static Func<string, string?> AuxiliaryParameterOf(Module auxiliary) => MirroredState.ParameterOf(auxiliary, AuxiliaryPrefix, AuxiliaryAdamPrefix);

    private static Dictionary<string, Tensor> Strip(IReadOnlyDictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    private static long ParseLong(string path, string key, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new SafeTensorsFormatException(path, $"metadata '{key}' = '{value}' is not a whole number ≥ 0");
}
