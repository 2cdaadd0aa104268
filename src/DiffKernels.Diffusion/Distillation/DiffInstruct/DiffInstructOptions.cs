using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

/// <summary>
/// Settings of a Diff-Instruct run; stored as JSON in every checkpoint so a resumed run continues with the same
/// ones (on resume the step count, the bookkeeping intervals and the two learning rates may change). An iteration
/// is one auxiliary and one generator update; the EMA half-life counts generated samples.
/// </summary>
public sealed record DiffInstructOptions : RunOptions
{
    /// <summary>The Diff-Instruct defaults.</summary>
    public DiffInstructOptions() => Steps = 5000;

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

    /// <inheritdoc/>
    protected override string Label => "diff-instruct";

    /// <inheritdoc/>
    protected internal override string Resumable => "the step count, checkpoint and log intervals, preview size, quality curve and learning rates";

    /// <inheritdoc/>
    protected internal override RunOptions WithResumable(RunOptions changed) => (DiffInstructOptions)base.WithResumable(changed) with
    {
        GeneratorLr = ((DiffInstructOptions)changed).GeneratorLr,
        AuxiliaryLr = ((DiffInstructOptions)changed).AuxiliaryLr,
    };

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/>.</summary>
    public static DiffInstructOptions FromJson(string json) => Read<DiffInstructOptions>(json);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("generator learning rate", GeneratorLr);
        CheckRate("auxiliary learning rate", AuxiliaryLr);
        CheckAdam(Beta1, Beta2, Eps);
        if (!double.IsFinite(PMean) || !(PStd >= 0) || !double.IsFinite(PStd)) throw new ArgumentException($"diff-instruct: ln σ ~ N({PMean}, {PStd}²) needs a finite mean and a finite std ≥ 0");
    }
}
