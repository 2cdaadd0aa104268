namespace DiffKernels.Diffusion.Sampling;

/// <summary>The samplers: the deterministic probability-flow ODE solvers, a few-step student's re-noising walk and a generator's single evaluation.</summary>
public enum SamplerKind
{
    /// <summary>First-order Euler steps on the Karras grid (one evaluation per step).</summary>
    Euler,
    /// <summary>EDM Algorithm 2: Heun's second-order steps on the Karras grid (2N − 1 evaluations).</summary>
    Heun,
    /// <summary>Deterministic DDIM: Euler steps on the VP schedule's uniform-time grid.</summary>
    Ddim,
    /// <summary>
    /// No ODE: a few-step student (DMD2's) denoises at each level and re-noises its estimate with fresh noise to the
    /// next level (one evaluation per level; a stochastic sampler: the seed fixes the noise of every level).
    /// </summary>
    Renoise,
    /// <summary>No ODE: a generator network (a GAN's) maps latents to samples in one evaluation (see GeneratorSampler).</summary>
    Generator,
}
