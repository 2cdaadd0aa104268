using System.Text.Json.Serialization;
using DiffKernels.Diffusion.Training.Sadm;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Settings of an EDM teacher run; stored as JSON in every checkpoint so a resumed run continues with
/// the same ones (only the step count and the bookkeeping intervals may change on resume).
/// </summary>
public sealed record TrainerOptions : RunOptions
{
    /// <summary>Peak Adam learning rate.</summary>
    public float Lr { get; init; } = 1e-3f;

    /// <summary>Steps of linear learning-rate warm-up from 0.</summary>
    public int WarmupSteps { get; init; } = 200;

    /// <summary>Probability that a label is replaced by −1 (conditional models only), for classifier-free guidance.</summary>
    public double LabelDropout { get; init; } = 0.1;

    /// <summary>EDM σd.</summary>
    public double SigmaData { get; init; } = 0.5;

    /// <summary>Mean of ln σ during training.</summary>
    public double PMean { get; init; } = -1.2;

    /// <summary>Standard deviation of ln σ during training.</summary>
    public double PStd { get; init; } = 1.2;

    /// <summary>SADM's structure term and discriminator (null: plain EDM training, whose stored options then name no such key).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SadmOptions? Sadm { get; init; }

    /// <inheritdoc/>
    protected override string Label => "trainer";

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/> (also those that named the EMA half-life ema_half_life_images).</summary>
    public static TrainerOptions FromJson(string json) => Read<TrainerOptions>(json);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("learning rate", Lr);
        if (WarmupSteps < 0) throw new ArgumentException($"trainer: warm-up {WarmupSteps} must be ≥ 0");
        if (!(LabelDropout >= 0 && LabelDropout < 1)) throw new ArgumentException($"trainer: label dropout {LabelDropout} must be in [0, 1)");
        Sadm?.Validate(BatchSize);
    }
}
