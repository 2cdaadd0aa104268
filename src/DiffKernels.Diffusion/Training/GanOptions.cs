namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Settings of an adversarial run; stored as JSON in every checkpoint so a resumed run continues with the same
/// ones (only the step count and the bookkeeping intervals may change on resume). An iteration is one
/// discriminator and one generator update; the EMA half-life counts generated samples.
/// </summary>
public sealed record GanOptions : RunOptions
{
    /// <summary>The DCGAN defaults.</summary>
    public GanOptions()
    {
        BatchSize = 64;
        CheckpointEvery = 500;
        PreviewSamples = 64;
        EmaHalfLifeSamples = 50_000;
    }

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

    /// <inheritdoc/>
    protected override string Label => "train-gan";

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/>.</summary>
    public static GanOptions FromJson(string json) => Read<GanOptions>(json);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("generator learning rate", GeneratorLr);
        CheckRate("discriminator learning rate", DiscriminatorLr);
        CheckAdam(Beta1, Beta2, Eps);
    }
}
