using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The settings every run kind has; each kind's options derive from it and add their own. Stored as one flat JSON
/// object (snake_case keys) in every checkpoint, so a resumed run continues with the same settings.
/// </summary>
public abstract record RunOptions
{

    // EDM teachers wrote the EMA half-life under this name before all kinds shared one.
    private const string OldHalfLifeKey = "ema_half_life_images";

    /// <summary>Total iterations of the run.</summary>
    public int Steps { get; init; } = 10_000;

    /// <summary>Samples per iteration.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Seed of the run's random streams.</summary>
    public ulong Seed { get; init; }

    /// <summary>Iterations per JSONL log line.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Iterations between checkpoints (0: only at the end).</summary>
    public int CheckpointEvery { get; init; } = 1000;

    /// <summary>Samples drawn from the EMA weights into a preview PNG at each checkpoint (0: none).</summary>
    public int PreviewSamples { get; init; }

    /// <summary>EMA half-life of the sampled network in samples (EDM: 0.5 M images; null: no EMA, the raw weights are sampled).</summary>
    public double? EmaHalfLifeSamples { get; init; } = 500_000;

    /// <summary>EMA ramp: the half-life is at most this fraction of the samples seen so far (null: no ramp).</summary>
    public double? EmaRampRatio { get; init; } = 0.05;

    /// <summary>Global gradient-norm clip of each update (null: none; the norm is still checked for non-finite values).</summary>
    public float? GradClip { get; init; }

    /// <summary>
    /// The quality curve: FD (images) or SW₂ (toys) of the network the run would release, measured every so many
    /// iterations into the log and a plot (null: none, and the stored options name no such key).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QualityCurveOptions? QualityCurve { get; init; }

    /// <summary>Iterations in a row with a skipped update (non-finite loss or gradient) tolerated before the run stops.</summary>
    public int MaxConsecutiveSkips { get; init; } = 20;

    /// <summary>How messages name the run kind (e.g. "train-gan").</summary>
    protected abstract string Label { get; }

    /// <summary>What <see cref="WithResumable"/> takes over, in words, for the message that refuses anything else.</summary>
    protected internal virtual string Resumable => "the step count, checkpoint and log intervals, preview size and quality curve";

    /// <summary>These options with the settings a resumed run may change taken from <paramref name="changed"/>.</summary>
    protected internal virtual RunOptions WithResumable(RunOptions changed) => this with
    {
        Steps = changed.Steps,
        CheckpointEvery = changed.CheckpointEvery,
        LogEvery = changed.LogEvery,
        PreviewSamples = changed.PreviewSamples,
        QualityCurve = changed.QualityCurve,
    };

    /// <summary>Serialises the options (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, GetType(), DiffusionJsonContext.Default);

    /// <summary>Parses options written by <see cref="ToJson"/>, by this version or an earlier one.</summary>
    protected static T Read<T>(string json) where T : RunOptions
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new JsonException($"{typeof(T).Name}: the JSON is not an object");
        if (node.TryGetPropertyValue(OldHalfLifeKey, out var halfLife))
        {
            node.Remove(OldHalfLifeKey);
            node.TryAdd("ema_half_life_samples", halfLife);
        }
        return node.Deserialize((JsonTypeInfo<T>)DiffusionJsonContext.Default.GetTypeInfo(typeof(T))!) ?? throw new JsonException($"{typeof(T).Name}: JSON is null");
    }

    /// <summary>Throws with the offending setting when the options cannot run.</summary>
    public virtual void Validate()
    {
        if (Steps < 0) throw new ArgumentException($"{Label}: steps {Steps} must be ≥ 0");
        if (BatchSize < 1) throw new ArgumentException($"{Label}: batch size {BatchSize} must be ≥ 1");
        if (EmaHalfLifeSamples is { } h && !(h > 0)) throw new ArgumentException($"{Label}: EMA half-life {h} must be positive");
        if (EmaRampRatio is { } r && !(r > 0)) throw new ArgumentException($"{Label}: EMA ramp ratio {r} must be positive");
        if (GradClip is { } c && !(c > 0)) throw new ArgumentException($"{Label}: gradient clip {c} must be positive");
        if (CheckpointEvery < 0) throw new ArgumentException($"{Label}: checkpoint interval {CheckpointEvery} must be ≥ 0");
        if (LogEvery < 1) throw new ArgumentException($"{Label}: log interval {LogEvery} must be ≥ 1");
        if (PreviewSamples < 0) throw new ArgumentException($"{Label}: preview samples {PreviewSamples} must be ≥ 0");
        QualityCurve?.Validate(Label);
        if (MaxConsecutiveSkips < 0) throw new ArgumentException($"{Label}: max consecutive skips {MaxConsecutiveSkips} must be ≥ 0");
    }

    /// <summary>Throws unless <paramref name="lr"/>, the <paramref name="what"/>, is positive and finite.</summary>
    protected void CheckRate(string what, float lr)
    {
        if (!(lr > 0) || !float.IsFinite(lr)) throw new ArgumentException($"{Label}: {what} {lr} must be positive");
    }

    /// <summary>Throws unless Adam's β₁ and β₂ lie in [0, 1) and its ε is ≥ 0.</summary>
    protected void CheckAdam(float beta1, float beta2, float eps)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"{Label}: Adam betas ({beta1}, {beta2}) must be in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentException($"{Label}: Adam eps {eps} must be ≥ 0");
    }
}
