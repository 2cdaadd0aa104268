namespace DiffKernels.Diffusion.Sampling;

/// <summary>The deterministic probability-flow ODE samplers.</summary>
public enum SamplerKind
{
    /// <summary>First-order Euler steps on the Karras grid (one evaluation per step).</summary>
    Euler,
    /// <summary>EDM Algorithm 2: Heun's second-order steps on the Karras grid (2N − 1 evaluations).</summary>
    Heun,
    /// <summary>Deterministic DDIM: Euler steps on the VP schedule's uniform-time grid.</summary>
    Ddim,
    /// <summary>No ODE: a generator network (a GAN's) maps latents to samples in one evaluation (see GeneratorSampler).</summary>
    Generator,
}
