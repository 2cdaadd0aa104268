namespace DiffKernels.Diffusion.Schedules;

/// <summary>EDM preconditioning at one noise level: D(x; σ) = CSkip·x + COut·F(CIn·x; CNoise).</summary>
/// <param name="CSkip">σd²/(σ² + σd²).</param>
/// <param name="COut">σ·σd/√(σ² + σd²).</param>
/// <param name="CIn">1/√(σ² + σd²).</param>
/// <param name="CNoise">ln(σ)/4.</param>
public readonly record struct EdmCoefficients(double CSkip, double COut, double CIn, double CNoise);
