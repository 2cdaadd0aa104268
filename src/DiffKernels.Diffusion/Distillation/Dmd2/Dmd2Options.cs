using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// Settings of a DMD2 run; stored as JSON in every checkpoint so a resumed run continues with the same ones (on
/// resume the step count, the bookkeeping intervals and the two learning rates may change). An iteration is one fake
/// (auxiliary) denoiser update, plus a generator update on every <see cref="FakeUpdatesPerGeneratorUpdate"/>-th
/// iteration (the first included); the EMA half-life counts generated samples.
/// </summary>
public sealed record Dmd2Options : RunOptions
{
    /// <summary>The DMD2 defaults: AdamW(0.9, 0.999, weight decay 0.01), gradient-norm clip 10, five fake updates per generator update.</summary>
    public Dmd2Options()
    {
        Steps = 5000;
        GradClip = 10f;
    }

    /// <summary>Number of student steps K (σ levels spread over the grid: indices ⌊i·N/K⌋, i &lt; K, from σ_max down).</summary>
    public int StudentSteps { get; init; } = 1;

    /// <summary>Fake-denoiser updates per generator update (DMD2's two-time-scale rule).</summary>
    public int FakeUpdatesPerGeneratorUpdate { get; init; } = 5;

    /// <summary>AdamW learning rate of the generator (toys; the reference's images use 2e-6 at batch 280).</summary>
    public float GeneratorLr { get; init; } = 1e-4f;

    /// <summary>AdamW learning rate of the fake denoiser.</summary>
    public float FakeLr { get; init; } = 1e-4f;

    /// <summary>AdamW β₁ of both optimisers.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>AdamW β₂ of both optimisers.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>AdamW ε of both optimisers.</summary>
    public float Eps { get; init; } = 1e-8f;

    /// <summary>Decoupled weight decay of both optimisers.</summary>
    public float WeightDecay { get; init; } = 0.01f;

    /// <summary>Points N of the Karras grid every σ is drawn from (σ_min 0.002, σ_max 80, ρ = 7).</summary>
    public int GridPoints { get; init; } = 1000;

    /// <summary>Smallest fraction of the grid (from the σ_min end) the distribution-matching σ is drawn from.</summary>
    public double MinLevelFraction { get; init; } = 0.02;

    /// <summary>Largest fraction of the grid (from the σ_min end) the distribution-matching σ is drawn from.</summary>
    public double MaxLevelFraction { get; init; } = 0.98;

    /// <summary>
    /// Adds the GAN head on the fake denoiser's bottleneck (needs real data; off: DMD2 is data-free). Real and student
    /// samples are noised at a distribution-matching σ and classified by the head.
    /// </summary>
    public bool Gan { get; init; }

    /// <summary>Weight of the head's loss softplus(l_fake) + softplus(−l_real) in the fake denoiser's update.</summary>
    public float GanHeadWeight { get; init; } = 1e-2f;

    /// <summary>Weight of the student's GAN loss softplus(−l_fake) beside the distribution-matching gradient.</summary>
    public float GanGeneratorWeight { get; init; } = 3e-3f;

    /// <summary>
    /// x0 thresholding (reflected diffusion, see Sampling.X0Threshold) of the student's estimates as it samples and
    /// simulates its inputs, and of the teacher's and fake network's estimates in the distribution-matching gradient;
    /// null: none (the default).
    /// </summary>
    public float? Threshold { get; init; }

    /// <inheritdoc/>
    protected override string Label => "dmd2";

    /// <inheritdoc/>
    protected internal override string Resumable => "the step count, checkpoint and log intervals, preview size, quality curve and learning rates";

    /// <inheritdoc/>
    protected internal override RunOptions WithResumable(RunOptions changed) => (Dmd2Options)base.WithResumable(changed) with
    {
        GeneratorLr = ((Dmd2Options)changed).GeneratorLr,
        FakeLr = ((Dmd2Options)changed).FakeLr,
    };

    /// <summary>Parses options written by <see cref="RunOptions.ToJson"/>.</summary>
    public static Dmd2Options FromJson(string json) => Read<Dmd2Options>(json);

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        CheckRate("generator learning rate", GeneratorLr);
        CheckRate("fake learning rate", FakeLr);
        CheckAdam(Beta1, Beta2, Eps);
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay)) throw new ArgumentException($"dmd2: weight decay {WeightDecay} must be finite and ≥ 0");
        if (GridPoints < 2) throw new ArgumentException($"dmd2: the σ grid needs at least 2 points, not {GridPoints}");
        if (StudentSteps < 1 || StudentSteps > GridPoints)
            throw new ArgumentException($"dmd2: {StudentSteps} student steps cannot be taken from the {GridPoints}-point σ grid (1 to {GridPoints} distinct levels)");
        if (FakeUpdatesPerGeneratorUpdate < 1) throw new ArgumentException($"dmd2: fake updates per generator update {FakeUpdatesPerGeneratorUpdate} must be ≥ 1");
        if (!(GanHeadWeight >= 0) || !float.IsFinite(GanHeadWeight) || !(GanGeneratorWeight >= 0) || !float.IsFinite(GanGeneratorWeight))
            throw new ArgumentException($"dmd2: GAN weights ({GanHeadWeight}, {GanGeneratorWeight}) must be finite and ≥ 0");
        X0Threshold.Validate(Threshold, "dmd2");
        if (!(MinLevelFraction >= 0 && MinLevelFraction <= MaxLevelFraction && MaxLevelFraction <= 1))
            throw new ArgumentException($"dmd2: the distribution-matching range [{MinLevelFraction}, {MaxLevelFraction}] of the grid must satisfy 0 ≤ min ≤ max ≤ 1");
    }
}
