using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// A generator whose samples are differentiable in its parameters: x = G(z, c). Score-based distillers
/// (Diff-Instruct, DMD2) push a pseudo-gradient into x with <c>x.Backward(g)</c>, so any network that maps
/// latents to samples through recorded ops can be trained by them: a one-step denoiser, a GAN generator.
/// </summary>
public interface IGenerator
{
    /// <summary>The trainable network (its parameters are optimised; checkpoints store it through ModelFactory).</summary>
    Module Module { get; }

    /// <summary>Shape of one latent z (without the batch axis).</summary>
    Shape LatentShape { get; }

    /// <summary>Shape of one sample (without the batch axis), e.g. [2] or [32, 32, 1].</summary>
    Shape SampleShape { get; }

    /// <summary>Number of classes the generator is conditioned on (0 for unconditional).</summary>
    int NumClasses { get; }

    /// <summary>
    /// Samples [N, …SampleShape] from latents [N, …LatentShape]; <paramref name="labels"/> are class ids as
    /// floats [N] (conditional generators) or null. Records the graph unless called under NoGrad.
    /// </summary>
    Tensor Generate(Tensor z, Tensor? labels);

    /// <summary>
    /// Metadata that makes the saved <see cref="Module"/> sample like this generator when loaded by
    /// ModelFactory and drawn from by the samplers (e.g. a one-step sampler at σ_init); also what
    /// <see cref="Distillation.Common.GeneratorCheckpoint.Wrap"/> reads back.
    /// </summary>
    IReadOnlyDictionary<string, string> SamplingMetadata { get; }
}
