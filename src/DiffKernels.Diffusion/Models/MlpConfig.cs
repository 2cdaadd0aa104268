using System.Text.Json;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// Shape of the toy <see cref="Mlp"/>; stored as JSON in its checkpoint. The noise level enters as
/// sinusoidal features of TimeScale·c_noise (c_noise = ln σ / 4 spans about [−1.6, 1.1], so the
/// scale spreads it over the features' frequencies 1 … 1/TimeMaxPeriod).
/// </summary>
/// <param name="Dim">Data dimension (2 for the toys).</param>
/// <param name="Hidden">Width of every hidden layer.</param>
/// <param name="Layers">Number of hidden layers.</param>
/// <param name="TimeFeatures">Number of sinusoidal noise-level features (even).</param>
/// <param name="TimeScale">Multiplier applied to c_noise before the features.</param>
/// <param name="TimeMaxPeriod">Longest period of the features.</param>
/// <param name="NumClasses">Classes for conditioning (0: unconditional).</param>
public sealed record MlpConfig(
    int Dim = 2,
    int Hidden = 128,
    int Layers = 3,
    int TimeFeatures = 32,
    float TimeScale = 16f,
    float TimeMaxPeriod = 100f,
    int NumClasses = 0)
{

    /// <summary>The kind string stored in checkpoints.</summary>
    public const string Kind = "mlp";

    /// <summary>Serialises the config (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.MlpConfig);

    /// <summary>Parses a config written by <see cref="ToJson"/>; absent keys take their defaults.</summary>
    public static MlpConfig FromJson(string json) =>
        JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.MlpConfig) ?? throw new JsonException("mlp config: JSON is null");

    /// <summary>Throws with the offending field when the config cannot build a network.</summary>
    public void Validate()
    {
        if (Dim < 1) throw new ArgumentException($"mlp config: dim {Dim} must be ≥ 1");
        if (Hidden < 1) throw new ArgumentException($"mlp config: hidden {Hidden} must be ≥ 1");
        if (Layers < 1) throw new ArgumentException($"mlp config: layers {Layers} must be ≥ 1");
        if (TimeFeatures < 2 || TimeFeatures % 2 != 0) throw new ArgumentException($"mlp config: time_features {TimeFeatures} must be even and ≥ 2");
        if (!(TimeScale > 0) || !(TimeMaxPeriod > 0)) throw new ArgumentException($"mlp config: time_scale {TimeScale} and time_max_period {TimeMaxPeriod} must be positive");
        if (NumClasses < 0) throw new ArgumentException($"mlp config: num_classes {NumClasses} must be ≥ 0");
    }
}
