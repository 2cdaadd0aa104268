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
