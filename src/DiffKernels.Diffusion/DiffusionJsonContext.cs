using System.Text.Json.Serialization;
using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion;

/// <summary>
/// The JSON of model configs, run options and provenance, snake_case keys, generated at compile time so that trimmed
/// and native-AOT applications read checkpoints without reflection. A new run kind's options join the list (its
/// options' <c>ToJson</c> throws until they do; the run contract tests catch it).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(MlpConfig))]
[JsonSerializable(typeof(UNetConfig))]
[JsonSerializable(typeof(DiTConfig))]
[JsonSerializable(typeof(GanConfig))]
[JsonSerializable(typeof(ClassifierConfig))]
[JsonSerializable(typeof(RunSession))]
[JsonSerializable(typeof(List<RunSession>))]
[JsonSerializable(typeof(DdilOptions))]
[JsonSerializable(typeof(TrainerOptions))]
[JsonSerializable(typeof(GanOptions))]
[JsonSerializable(typeof(DiffInstructOptions))]
[JsonSerializable(typeof(BootOptions))]
[JsonSerializable(typeof(Dmd2Options))]
[JsonSerializable(typeof(ProgressiveOptions))]
internal sealed partial class DiffusionJsonContext : JsonSerializerContext;
