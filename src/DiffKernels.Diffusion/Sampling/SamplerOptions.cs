using DiffKernels.Diffusion.Schedules;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>How <see cref="DiffusionSampler"/> draws samples.</summary>
/// <param name="Kind">The ODE solver.</param>
/// <param name="Steps">Number of σ levels before the final 0 (Heun with 18 levels makes 35 evaluations).</param>
/// <param name="Guidance">Classifier-free guidance scale w (1: none).</param>
/// <param name="Seed">Seed of the initial noise: the same seed gives the same samples whatever the batch size.</param>
/// <param name="BatchSize">Samples integrated together.</param>
/// <param name="SigmaMin">Smallest level of the Karras grid.</param>
/// <param name="SigmaMax">Largest level of the Karras grid.</param>
/// <param name="Rho">Karras grid exponent.</param>
/// <param name="Sigmas">
/// Explicit levels (decreasing, then the final 0 is implied) in place of the Karras grid, e.g. the σ's a few-step
/// student was distilled on; their count must equal <paramref name="Steps"/>.
/// </param>
/// <param name="Threshold">
/// x0 thresholding of every denoiser output before the step continues from it (see <see cref="X0Threshold"/>);
/// null: none.
/// </param>
public sealed record SamplerOptions(
    SamplerKind Kind = SamplerKind.Heun,
    int Steps = 18,
    double Guidance = 1,
    ulong Seed = 0,
    int BatchSize = 1024,
    double SigmaMin = 0.002,
    double SigmaMax = 80,
    double Rho = 7,
    IReadOnlyList<double>? Sigmas = null,
    float? Threshold = null)
{
    /// <summary>Metadata key under which a checkpoint names its default sampler ("heun", "euler" or "ddim").</summary>
    public const string KindKey = "sampler";

    /// <summary>Metadata key under which a checkpoint names its default number of levels.</summary>
    public const string StepsKey = "sampler_steps";

    /// <summary>Metadata key under which a checkpoint names its default σ_max (a one-step student: its σ_init).</summary>
    public const string SigmaMaxKey = "sampler_sigma_max";

    /// <summary>Metadata key under which a checkpoint lists explicit levels (comma-separated, round-trip decimals).</summary>
    public const string SigmasKey = "sampler_sigmas";

    /// <summary>Metadata key under which a checkpoint names its default x0 thresholding (see <see cref="X0Threshold.Format"/>).</summary>
    public const string ThresholdKey = "sampler_threshold";

    /// <summary>The name of <see cref="SamplerKind.Generator"/> on the command line and in checkpoint metadata.</summary>
    public const string GeneratorName = "generator";

    /// <summary>The σ grid (levels, then 0) this sampler walks.</summary>
    public double[] Grid()
    {
        if (Sigmas is { } levels)
        {
            if (levels.Count != Steps)
                throw new ArgumentException($"sampler: {levels.Count} explicit levels for {Steps} steps; their counts must agree");
            return [.. levels, 0];
        }
        return Kind == SamplerKind.Ddim ? SigmaGrid.VpUniform(Steps) : SigmaGrid.Karras(Steps, SigmaMin, SigmaMax, Rho);
    }

    /// <summary>Denoiser evaluations per sample (guidance batches both branches into one evaluation).</summary>
    public int Nfe => Kind == SamplerKind.Heun ? 2 * Steps - 1 : Steps;

    /// <summary>Parses "heun", "euler", "ddim", "renoise" or "generator" (case-insensitive).</summary>
    public static SamplerKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "heun" => SamplerKind.Heun,
        "euler" => SamplerKind.Euler,
        "ddim" => SamplerKind.Ddim,
        "renoise" => SamplerKind.Renoise,
        GeneratorName => SamplerKind.Generator,
        _ => throw new ArgumentException($"unknown sampler '{name}'; expected heun, euler, ddim, renoise or {GeneratorName}"),
    };
}
