using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.Progressive;

/// <summary>
/// Settings of a progressive-distillation run; stored as JSON in every checkpoint so a resumed run continues with the
/// same ones (on resume the step count and the bookkeeping intervals may change). The run halves the teacher's
/// <see cref="TeacherSteps"/> Euler steps round by round down to <see cref="FinalSteps"/>, with
/// <see cref="StepsPerRound"/> updates per round; <see cref="RunOptions.Steps"/> is the total and at most
/// rounds × steps per round. No EMA by default (the reference code distils the raw weights); gradient-norm clip 1.
/// </summary>
public sealed record ProgressiveOptions : RunOptions
{
    /// <summary>The progressive-distillation defaults.</summary>
    public ProgressiveOptions()
    {
        Steps = 6 * 2000;
        BatchSize = 128;
        EmaHalfLifeSamples = null;
        GradClip = 1f;
    }

    /// <summary>Euler steps of the original teacher on its Karras grid (64 or 128; a power-of-two multiple of <see cref="FinalSteps"/>).</summary>
    public int TeacherSteps { get; init; } = 64;

    /// <summary>Steps of the last round's student (each round halves the steps).</summary>
    public int FinalSteps { get; init; } = 1;

    /// <summary>Updates per round (halving); the learning rate decays linearly to 0 within each.</summary>
    public int StepsPerRound { get; init; } = 2000;

    /// <summary>Adam learning rate at the start of every round.</summary>
    public float Lr { get; init; } = 5e-5f;

    /// <summary>Adam β₁.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β₂.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε.</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>Smallest level of the teacher's Karras grid.</summary>
    public double SigmaMin { get; init; } = 0.002;

    /// <summary>Largest level of the teacher's Karras grid (the students start there).</summary>
    public double SigmaMax { get; init; } = 80;

    /// <summary>Karras grid exponent.</summary>
    public double Rho { get; init; } = 7;

    /// <summary>
    /// x0 thresholding (reflected diffusion, see Sampling.X0Threshold): the teacher's x0 estimates are thresholded
    /// inside the two-step targets and the students sample with it; null: none (the default: toy data is not in [−1, 1]).
    /// </summary>
    public float? Threshold { get; init; }

    /// <summary>Halving rounds: log₂(<see cref="TeacherSteps"/>/<see cref="FinalSteps"/>).</summary>
    public int Rounds => ProgressiveSchedule.RoundsBetween(TeacherSteps, FinalSteps);

    /// <inheritdoc/>
    protected override string Label => "pd";

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/>.</summary>
    public static ProgressiveOptions FromJson(string json) => Read<ProgressiveOptions>(json);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("learning rate", Lr);
        CheckAdam(Beta1, Beta2, Eps);
        if (StepsPerRound < 1) throw new ArgumentException($"pd: steps per round {StepsPerRound} must be ≥ 1");
        int rounds = Rounds;
        if ((long)rounds * StepsPerRound < Steps)
            throw new ArgumentException($"pd: {Steps} steps exceed the {rounds} rounds × {StepsPerRound} steps per round of halving {TeacherSteps} steps to {FinalSteps}");
        if (!(SigmaMin > 0 && SigmaMax > SigmaMin) || !double.IsFinite(SigmaMax) || !(Rho > 0))
            throw new ArgumentException($"pd: the teacher grid needs 0 < σ_min ({SigmaMin}) < σ_max ({SigmaMax}) and ρ ({Rho}) > 0");
        X0Threshold.Validate(Threshold, "pd");
    }
}
