using System.Text.Json;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Settings of an EDM teacher run; stored as JSON in every checkpoint so a resumed run continues with
/// the same ones (only <see cref="Steps"/> may change on resume).
/// </summary>
public sealed record TrainerOptions
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Total optimiser steps of the run.</summary>
    public int Steps { get; init; } = 10_000;

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Peak Adam learning rate.</summary>
    public float Lr { get; init; } = 1e-3f;

    /// <summary>Steps of linear learning-rate warm-up from 0.</summary>
    public int WarmupSteps { get; init; } = 200;

    /// <summary>EMA half-life in training samples (EDM: 0.5 M images).</summary>
    public double EmaHalfLifeImages { get; init; } = 500_000;

    /// <summary>EMA ramp: the half-life is at most this fraction of the samples seen so far (null: no ramp).</summary>
    public double? EmaRampRatio { get; init; } = 0.05;

    /// <summary>Probability that a label is replaced by −1 (conditional models only), for classifier-free guidance.</summary>
    public double LabelDropout { get; init; } = 0.1;

    /// <summary>Global gradient-norm clip (null: none; the norm is still checked for non-finite values).</summary>
    public float? GradClip { get; init; }

    /// <summary>Steps between checkpoints (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 1000;

    /// <summary>Steps per JSONL log line.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Consecutive skipped steps (non-finite loss or gradient) tolerated before the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 20;

    /// <summary>Seed of the data and noise streams.</summary>
    public ulong Seed { get; init; }

    /// <summary>Samples drawn from the EMA weights into a preview PNG at each checkpoint (0: none).</summary>
    public int PreviewSamples { get; init; }

    /// <summary>EDM σd.</summary>
    public double SigmaData { get; init; } = 0.5;

    /// <summary>Mean of ln σ during training.</summary>
    public double PMean { get; init; } = -1.2;

    /// <summary>Standard deviation of ln σ during training.</summary>
    public double PStd { get; init; } = 1.2;

    /// <summary>Serialises the options (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses options written by <see cref="ToJson"/>.</summary>
    public static TrainerOptions FromJson(string json) =>
        JsonSerializer.Deserialize<TrainerOptions>(json, Json) ?? throw new JsonException("trainer options: JSON is null");

    /// <summary>Throws with the offending setting when the options cannot run.</summary>
    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"trainer: steps {Steps} must be ≥ 0");
        if (BatchSize < 1) throw new ArgumentException($"trainer: batch size {BatchSize} must be ≥ 1");
        if (!(Lr > 0) || !float.IsFinite(Lr)) throw new ArgumentException($"trainer: learning rate {Lr} must be positive");
        if (WarmupSteps < 0) throw new ArgumentException($"trainer: warm-up {WarmupSteps} must be ≥ 0");
        if (!(EmaHalfLifeImages > 0)) throw new ArgumentException($"trainer: EMA half-life {EmaHalfLifeImages} must be positive");
        if (EmaRampRatio is { } r && !(r > 0)) throw new ArgumentException($"trainer: EMA ramp ratio {r} must be positive");
        if (!(LabelDropout >= 0 && LabelDropout < 1)) throw new ArgumentException($"trainer: label dropout {LabelDropout} must be in [0, 1)");
        if (GradClip is { } c && !(c > 0)) throw new ArgumentException($"trainer: gradient clip {c} must be positive");
        if (CheckpointEvery < 0) throw new ArgumentException($"trainer: checkpoint interval {CheckpointEvery} must be ≥ 0");
        if (LogEvery < 1) throw new ArgumentException($"trainer: log interval {LogEvery} must be ≥ 1");
        if (PreviewSamples < 0) throw new ArgumentException($"trainer: preview samples {PreviewSamples} must be ≥ 0");
        if (MaxConsecutiveSkips < 0) throw new ArgumentException($"trainer: max consecutive skips {MaxConsecutiveSkips} must be ≥ 0");
    }
}
