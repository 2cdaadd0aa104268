using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>Turns a module rebuilt from a checkpoint back into the generator it was saved as.</summary>
public static class GeneratorCheckpoint
{
    /// <summary>
    /// A module that implements <see cref="IGenerator"/> is its own generator; a network saved as a BOOT student becomes a
    /// <see cref="BootStudent"/>; a denoiser saved with one-step sampling metadata becomes a <see cref="OneStepGenerator"/>. Anything else is an error.
    /// </summary>
    public static IGenerator Wrap(Module module, IReadOnlyDictionary<string, string> metadata) =>
        module as IGenerator
        ?? (IGenerator?)BootStudent.FromMetadata(module, metadata)
        ?? OneStepGenerator.FromMetadata(module, metadata)
        ?? throw new ArgumentException($"{module.GetType().Name} is neither a generator nor a denoiser saved as a one-step generator (metadata sampler = euler, sampler_steps = 1, sampler_sigma_max)");
}
