namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A run's quality curve (<see cref="RunOptions.QualityCurve"/>): every <see cref="Every"/> iterations and at the run's
/// last, the network the run would release draws <see cref="Samples"/> samples as `dk eval` draws them and is scored
/// (FD on Fashion-MNIST, SW₂ on toys; see <see cref="Evaluation.QualityProbe"/>). A measurement costs
/// <see cref="Samples"/> × the sampler's NFE network evaluations, and draws from streams of its own, so the run trains
/// the same weights with or without it.
/// </summary>
public sealed record QualityCurveOptions
{
    /// <summary>The most samples a measurement draws: what `dk eval` scores on images at most.</summary>
    public const int MaxSamples = 60_000;

    /// <summary>Iterations between measurements (≥ 1).</summary>
    public int Every { get; init; } = 1000;

    /// <summary>Samples per measurement (2 to <see cref="MaxSamples"/>: a Fréchet distance needs two).</summary>
    public int Samples { get; init; } = 1000;

    /// <summary>Throws, naming the run kind by <paramref name="label"/>, when the settings cannot run.</summary>
    public void Validate(string label)
    {
        if (Every < 1) throw new ArgumentException($"{label}: quality-curve interval {Every} must be ≥ 1");
        if (Samples < 2 || Samples > MaxSamples)
            throw new ArgumentException(FormattableString.Invariant($"{label}: quality-curve samples {Samples} must lie in 2 to {MaxSamples:N0}"));
    }
}
