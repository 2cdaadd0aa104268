using System.Text.Json;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Settings of an adversarial run; stored as JSON in every checkpoint so a resumed run continues with the same
/// ones (only <see cref="Steps"/> and the bookkeeping intervals may change on resume).
/// </summary>
public sealed record GanOptions
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Iterations (one discriminator and one generator update each).</summary>
    public int Steps { get; init; } = 10_000;

    /// <summary>Real images, and generated images, per update.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam learning rate of the generator.</summary>
    public float GeneratorLr { get; init; } = 2e-4f;

    /// <summary>Adam learning rate of the discriminator.</summary>
    public float DiscriminatorLr { get; init; } = 2e-4f;

    /// <summary>Adam β₁ of both optimisers (DCGAN: 0.5).</summary>
    public float Beta1 { get; init; } = 0.5f;

    /// <summary>Adam β₂ of both optimisers.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε of both optimisers.</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>EMA half-life of the generator in generated samples (null: no EMA, checkpoints store the raw weights).</summary>
    public double? EmaHalfLifeSamples { get; init; } = 50_000;

    /// <summary>EMA ramp: the half-life is at most this fraction of the samples generated so far (null: no ramp).</summary>
    public double? EmaRampRatio { get; init; } = 0.05;

    /// <summary>Iterations between checkpoints (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 500;

    /// <summary>Iterations per JSONL log line.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Consecutive iterations with a skipped update tolerated before the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 20;

    /// <summary>Seed of the data order, latents and labels.</summary>
    public ulong Seed { get; init; }

    /// <summary>Generator samples drawn into a preview PNG at each checkpoint (0: none).</summary>
    public int PreviewSamples { get; init; } = 64;

    /// <summary>Serialises the options (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses options written by <see cref="ToJson"/>.</summary>
    public static GanOptions FromJson(string json) =>
        JsonSerializer.Deserialize<GanOptions>(json, Json) ?? throw new JsonException("gan options: JSON is null");

    /// <summary>Throws with the offending setting when the options cannot run.</summary>
    public void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"train-gan: steps {Steps} must be ≥ 0");
        if (BatchSize < 1) throw new ArgumentException($"train-gan: batch size {BatchSize} must be ≥ 1");
        if (!(GeneratorLr > 0) || !float.IsFinite(GeneratorLr)) throw new ArgumentException($"train-gan: generator learning rate {GeneratorLr} must be positive");
        if (!(DiscriminatorLr > 0) || !float.IsFinite(DiscriminatorLr)) throw new ArgumentException($"train-gan: discriminator learning rate {DiscriminatorLr} must be positive");
        if (!(Beta1 >= 0 && Beta1 < 1) || !(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentException($"train-gan: Adam betas ({Beta1}, {Beta2}) must be in [0, 1)");
        if (!(Eps >= 0)) throw new ArgumentException($"train-gan: Adam eps {Eps} must be ≥ 0");
        if (EmaHalfLifeSamples is { } h && !(h > 0)) throw new ArgumentException($"train-gan: EMA half-life {h} must be positive");
        if (EmaRampRatio is { } r && !(r > 0)) throw new ArgumentException($"train-gan: EMA ramp ratio {r} must be positive");
        if (CheckpointEvery < 0) throw new ArgumentException($"train-gan: checkpoint interval {CheckpointEvery} must be ≥ 0");
        if (LogEvery < 1) throw new ArgumentException($"train-gan: log interval {LogEvery} must be ≥ 1");
        if (MaxConsecutiveSkips < 0) throw new ArgumentException($"train-gan: max consecutive skips {MaxConsecutiveSkips} must be ≥ 0");
        if (PreviewSamples < 0) throw new ArgumentException($"train-gan: preview samples {PreviewSamples} must be ≥ 0");
    }
}
