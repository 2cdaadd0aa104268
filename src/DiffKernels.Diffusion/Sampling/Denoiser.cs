using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// A denoiser at one noise level for a whole batch: D(x; σ) ≈ E[x0 | x], with labels and guidance
/// already bound. The ODE samplers see only this.
/// </summary>
public delegate Tensor Denoiser(Tensor x, double sigma);
