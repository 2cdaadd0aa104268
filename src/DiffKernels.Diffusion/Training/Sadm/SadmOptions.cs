using System.Text.Json.Serialization;

namespace DiffKernels.Diffusion.Training.Sadm;

/// <summary>How the structural distance compares the real and the predicted batch's affinities.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SadmDistance>))]
public enum SadmDistance
{
    /// <summary>Mean over rows of KL(P^R_i ‖ P^F_i) between the row distributions softmax_j(A_ij/τ).</summary>
    Kl,

    /// <summary>Mean squared difference of the off-diagonal affinities A^R_ij − A^F_ij.</summary>
    Squared,
}

/// <summary>
/// Settings of SADM's structure term, part of an EDM run's options when the run has one: the denoiser minimises
/// L_EDM + λ_t·c_skip(σ)·S, the structure discriminator (an encoder) maximises S; one update each per step.
/// </summary>
public sealed record SadmOptions
{
    /// <summary>The fewest samples a batch needs: each row distribution spreads over the batch's other samples, so at least two.</summary>
    public const int MinBatch = 3;

    /// <summary>λ, the weight of the structure term once warmed up.</summary>
    public double Lambda { get; init; } = 0.1;

    /// <summary>Steps over which λ ramps linearly from 0 to <see cref="Lambda"/> (0: full weight from the first step).</summary>
    public int WarmupSteps { get; init; } = 1000;

    /// <summary>How the affinities are compared.</summary>
    public SadmDistance Distance { get; init; } = SadmDistance.Kl;

    /// <summary>Temperature τ of the row distributions softmax_j(A_ij/τ).</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>Dimension d of the encoder's normalised features.</summary>
    public int Features { get; init; } = 128;

    /// <summary>Widths of the encoder: its stride-2 convolutions for images, its hidden layers for points.</summary>
    public IReadOnlyList<int> EncoderWidths { get; init; } = [32, 64, 128, 256];

    /// <summary>Learning rate of the encoder's AdamW.</summary>
    public float EncoderLr { get; init; } = 1e-4f;

    /// <summary>β₁ of the encoder's AdamW.</summary>
    public float EncoderBeta1 { get; init; } = 0.5f;

    /// <summary>β₂ of the encoder's AdamW.</summary>
    public float EncoderBeta2 { get; init; } = 0.999f;

    /// <summary>Decoupled weight decay of the encoder (AdamW).</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>
    /// True: the structure batch is denoised at one σ drawn per step (the pairs compare predictions of equal quality);
    /// false: at one σ per sample, with the mean c_skip as the weight.
    /// </summary>
    public bool SharedSigma { get; init; } = true;

    /// <summary>True: the term is weighted by c_skip(σ), which keeps it out of the high-noise regime where a blurry posterior mean is right.</summary>
    public bool CSkipWeighting { get; init; } = true;

    /// <summary>Equal settings, the encoder widths compared element by element.</summary>
    public bool Equals(SadmOptions? other) =>
        other is not null && Lambda == other.Lambda && WarmupSteps == other.WarmupSteps && Distance == other.Distance && Temperature == other.Temperature
        && Features == other.Features && EncoderWidths.SequenceEqual(other.EncoderWidths) && EncoderLr == other.EncoderLr && EncoderBeta1 == other.EncoderBeta1
        && EncoderBeta2 == other.EncoderBeta2 && WeightDecay == other.WeightDecay && SharedSigma == other.SharedSigma && CSkipWeighting == other.CSkipWeighting;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Lambda, WarmupSteps, Distance, Temperature, Features, EncoderWidths.Count, SharedSigma, CSkipWeighting);

    /// <summary>λ_t at 0-based step <paramref name="step"/>: the linear warm-up, then λ.</summary>
    public double LambdaAt(long step) => WarmupSteps == 0 ? Lambda : Lambda * Math.Min(1.0, (step + 1) / (double)WarmupSteps);

    /// <summary>Throws with the offending setting when the options cannot run with batches of <paramref name="batchSize"/>.</summary>
    public void Validate(int batchSize)
    {
        if (batchSize < MinBatch)
            throw new ArgumentException($"SADM: batch {batchSize} is too small for affinities: each sample is compared with the others in its batch, so the batch must be ≥ {MinBatch} (64 or more recommended)");
        if (!(Lambda >= 0) || !double.IsFinite(Lambda)) throw new ArgumentException($"SADM: λ {Lambda} must be finite and ≥ 0");
        if (WarmupSteps < 0) throw new ArgumentException($"SADM: λ warm-up {WarmupSteps} must be ≥ 0");
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new ArgumentException($"SADM: temperature {Temperature} must be positive");
        if (Features < 1) throw new ArgumentException($"SADM: features {Features} must be ≥ 1");
        if (EncoderWidths.Count == 0 || EncoderWidths.Any(w => w < 1)) throw new ArgumentException($"SADM: encoder widths [{string.Join(", ", EncoderWidths)}] must be one or more positive numbers");
        if (!(EncoderLr > 0) || !float.IsFinite(EncoderLr)) throw new ArgumentException($"SADM: encoder learning rate {EncoderLr} must be positive");
        if (!(EncoderBeta1 >= 0 && EncoderBeta1 < 1) || !(EncoderBeta2 >= 0 && EncoderBeta2 < 1))
            throw new ArgumentException($"SADM: encoder Adam betas ({EncoderBeta1}, {EncoderBeta2}) must be in [0, 1)");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentException($"SADM: weight decay {WeightDecay} must be finite and ≥ 0");
    }
}
