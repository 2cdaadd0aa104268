using System.Text.Json.Serialization;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>How BOOT spaces its grid of noise levels between σmax and σmin.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BootGridKind>))]
public enum BootGridKind
{
    /// <summary>EDM's Karras grid (ρ = 7): dense at small σ.</summary>
    Karras,

    /// <summary>Uniform in ln σ.</summary>
    LogSigma,
}

/// <summary>How BOOT pins the trajectory at σmax.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BootBoundary>))]
public enum BootBoundary
{
    /// <summary>The first grid pair bootstraps from y(σmax) = 0: its target is δ'·D_T(σmax·ε; σmax).</summary>
    Hard,

    /// <summary>
    /// The hard boundary plus the loss ‖h_θ(ε, σmax) − D_T(σmax·ε; σmax)‖² on the student's running x0 estimate at σmax
    /// (the paper's g_θ(ε, T) ≈ x̂_T(ε)).
    /// </summary>
    Soft,
}

/// <summary>How each iteration picks the pair of consecutive grid points of each noise.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BootPairSampling>))]
public enum BootPairSampling
{
    /// <summary>Each noise draws its pair uniformly and independently.</summary>
    Uniform,

    /// <summary>
    /// The batch spreads evenly over the pairs: noise i of B gets the pair at position (i + u)/B of the grid with one
    /// uniform offset u per batch, so every pair is visited once per batch when B is at least the number of pairs.
    /// </summary>
    Stratified,
}
