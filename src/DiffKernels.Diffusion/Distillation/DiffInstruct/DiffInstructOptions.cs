using System.Text.Json;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

/// <summary>
/// Settings of a Diff-Instruct run; stored as JSON in every checkpoint so a resumed run continues with the same
/// ones (only <see cref="Steps"/> may change on resume).
/// </summary>
public sealed record DiffInstructOptions
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Iterations (one auxiliary and one generator update each).</summary>
    public int Steps { get; init; } = 5000;

    /// <summary>Generator samples per update.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate of the generator (images: 1e-5 at batch 128; toys tolerate about 1e-4).</summary>
    public float GeneratorLr { get; init; } = 1e-4f;

    /// <summary>Adam learning rate of the auxiliary denoiser.</summary>
    public float AuxiliaryLr { get; init; } = 1e-4f;

    /// <summary>Adam β₁ of both optimisers (Diff-Instruct: 0, no momentum).</summary>
    public float Beta1 { get; init; }

    /// <summary>Adam β₂ of both optimisers.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε of both optimisers.</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>Mean of ln σ for both updates.</summary>
    public double PMean { get; init; } = -1.2;

    /// <summary>Standard deviation of ln σ for both updates.</summary>
    public double PStd { get; init; } = 1.2;

    /// <summary>EMA half-life of the generator in generated samples.</summary>
    public double EmaHalfLifeSamples { get; init; } = 500_000;

    /// <summary>EMA ramp: the half-life is at most this fraction of the samples generated so far (null: no ramp).</summary>
    public double? EmaRampRatio { get; init; } = 0.05;

    /// <summary>Global gradient-norm clip of each update (null: none; the norm is still checked for non-finite values).</summary>
    public float? GradClip { get; init; }

    /// <summary>Iterations between checkpoints (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 1000;

    /// <summary>Iterations per JSONL log line.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Consecutive iterations with a skipped update tolerated before the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 20;

    /// <summary>Seed of the latent, label, σ and noise stream.</summary>
    public ulong Seed { get; init; }

    /// <summary>Samples of the generator's EMA drawn into a preview PNG at each checkpoint (0: none).</summary>
    public int PreviewSamples { get; init; }

    /// <summary>Serialises the options (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses options written by <see cref="ToJson"/>.</summary>
    public static DiffInstructOptions FromJson(string json) =>
        JsonSerializer.Deserialize<DiffInstructOptions>(json, Json) ?? throw new JsonException("diff-instruct options: JSON is null");

    /// <summary>Throws with the offending setting when the options cannot run.</summary>
    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"diff-instruct: steps {Steps} must be ≥ 0");
        if (BatchSize < 1) throw new ArgumentException($"diff-instruct: batch size {BatchSize} must be ≥ 1");
        if (!(GeneratorLr > 0) || !float.IsFinite(GeneratorLr)) throw new ArgumentException($"diff-instruct: generator learning rate {GeneratorLr} must be positive");
        if (!(AuxiliaryLr > 0) || !float.IsFinite(AuxiliaryLr)) throw new ArgumentException($"diff-instruct: auxiliary learning rate {AuxiliaryLr} must be positive");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"diff-instruct: Adam betas ({Beta1}, {Beta2}) must be in [0, 1)");
        if (!(Eps >= 0)) throw new ArgumentException($"diff-instruct: Adam eps {Eps} must be ≥ 0");
        if (!double.IsFinite(PMean) || !(PStd >= 0) || !double.IsFinite(PStd)) throw new ArgumentException($"diff-instruct: ln σ ~ N({PMean}, {PStd}²) needs a finite mean and a finite std ≥ 0");
        if (!(EmaHalfLifeSamples > 0)) throw new ArgumentException($"diff-instruct: EMA half-life {EmaHalfLifeSamples} must be positive");
        if (EmaRampRatio is { } r && !(r > 0)) throw new ArgumentException($"diff-instruct: EMA ramp ratio {r} must be positive");
        if (GradClip is { } c && !(c > 0)) throw new ArgumentException($"diff-instruct: gradient clip {c} must be positive");
        if (CheckpointEvery < 0) throw new ArgumentException($"diff-instruct: checkpoint interval {CheckpointEvery} must be ≥ 0");
        if (LogEvery < 1) throw new ArgumentException($"diff-instruct: log interval {LogEvery} must be ≥ 1");
        if (MaxConsecutiveSkips < 0) throw new ArgumentException($"diff-instruct: max consecutive skips {MaxConsecutiveSkips} must be ≥ 0");
        if (PreviewSamples < 0) throw new ArgumentException($"diff-instruct: preview samples {PreviewSamples} must be ≥ 0");
    }
}
