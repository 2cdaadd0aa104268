using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>
/// Settings of a BOOT run; stored as JSON in every checkpoint so a resumed run continues with the same ones (on
/// resume the step count, the bookkeeping intervals and the learning rate may change). An iteration is one student
/// update on a batch of noises, each with its own uniformly drawn pair of consecutive grid points.
/// </summary>
public sealed record BootOptions : RunOptions
{
    /// <summary>The BOOT defaults.</summary>
    public BootOptions() => Steps = 5000;

    /// <summary>Adam learning rate of the student.</summary>
    public float Lr { get; init; } = 1e-4f;

    /// <summary>Adam β₁.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam β₂.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>Adam ε.</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>Points of the grid (the spec's range is 32–64).</summary>
    public int GridPoints { get; init; } = 32;

    /// <summary>Spacing of the grid.</summary>
    public BootGridKind Grid { get; init; } = BootGridKind.Karras;

    /// <summary>How each noise's pair of consecutive grid points is drawn.</summary>
    public BootPairSampling Pairs { get; init; } = BootPairSampling.Uniform;

    /// <summary>ρ of a Karras grid.</summary>
    public double Rho { get; init; } = 7;

    /// <summary>The smallest level; one-step samples are y(σmin).</summary>
    public double SigmaMin { get; init; } = 0.002;

    /// <summary>The largest level, where the trajectory starts at σmax·ε.</summary>
    public double SigmaMax { get; init; } = 80;

    /// <summary>Lower clamp of the step δ' = 1 − σs/σt (bounds the 1/δ'² weight).</summary>
    public float MinDelta { get; init; } = 0.01f;

    /// <summary>How the trajectory is pinned at σmax.</summary>
    public BootBoundary Boundary { get; init; } = BootBoundary.Hard;

    /// <summary>Classifier-free guidance weight w of the teacher's target D_w (1: no guidance).</summary>
    public double Guidance { get; init; } = 1;

    /// <summary>Bins of grid pairs (from σmax down) whose losses the log reports apart.</summary>
    public int LossBins { get; init; } = 8;

    /// <inheritdoc/>
    protected override string Label => "boot";

    /// <inheritdoc/>
    protected internal override string Resumable => "the step count, checkpoint and log intervals, preview size, quality curve and learning rate";

    /// <inheritdoc/>
    protected internal override RunOptions WithResumable(RunOptions changed) => (BootOptions)base.WithResumable(changed) with { Lr = ((BootOptions)changed).Lr };

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/>.</summary>
    public static BootOptions FromJson(string json) => Read<BootOptions>(json);

    /// <summary>The grid these options describe, σmax first.</summary>
    public double[] Levels() => BootGrid.Levels(Grid, GridPoints, SigmaMin, SigmaMax, Rho);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("learning rate", Lr);
        CheckAdam(Beta1, Beta2, Eps);
        if (GridPoints < 2) throw new ArgumentException($"boot: the grid has {GridPoints} points; need at least 2 (one pair)");
        if (!(SigmaMin > 0 && SigmaMax > SigmaMin) || !double.IsFinite(SigmaMax))
            throw new ArgumentException($"boot: need 0 < σmin ({SigmaMin}) < σmax ({SigmaMax})");
        if (Grid == BootGridKind.Karras && !(Rho > 0)) throw new ArgumentException($"boot: Karras ρ {Rho} must be positive");
        if (!(MinDelta > 0 && MinDelta <= 1)) throw new ArgumentException($"boot: the δ' clamp {MinDelta} must be in (0, 1]");
        if (!double.IsFinite(Guidance)) throw new ArgumentException($"boot: guidance weight {Guidance} must be finite");
        if (LossBins < 1) throw new ArgumentException($"boot: loss bins {LossBins} must be ≥ 1");
    }
}
