using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>
/// The one-step generator of a distilled denoiser: x = D_G(σ_init·z; σ_init), with D_G an EDM-preconditioned
/// <see cref="INoiseNet"/> (initialised from the teacher). This is exactly one Euler step of the probability-flow
/// ODE from σ_init to 0, so a saved student samples with the ordinary sampler set to one Euler step at
/// σ_max = σ_init (see <see cref="SamplingMetadata"/>), bit for bit as it trained.
/// </summary>
public sealed class OneStepGenerator : IGenerator
{
    /// <summary>The default σ_init (2.5 is the other published choice).</summary>
    public const double DefaultSigmaInit = 1.0;

    /// <summary>Wraps <paramref name="denoiser"/> (a module implementing <see cref="INoiseNet"/>) as a one-step generator.</summary>
    public OneStepGenerator(Module denoiser, Edm edm, double sigmaInit = DefaultSigmaInit)
    {
        Net = denoiser as INoiseNet ?? throw new ArgumentException($"OneStepGenerator: {denoiser.GetType().Name} is not an INoiseNet");
        // The sampler's Karras grid needs σ_max above its σ_min for the saved student to load as a one-step model.
        if (!(sigmaInit > new SamplerOptions().SigmaMin) || !double.IsFinite(sigmaInit))
            throw new ArgumentOutOfRangeException(nameof(sigmaInit), $"OneStepGenerator: σ_init {sigmaInit} must be finite and above {new SamplerOptions().SigmaMin}");
        Module = denoiser;
        Edm = edm;
        SigmaInit = sigmaInit;
    }

    /// <inheritdoc/>
    public Module Module { get; }

    /// <summary>The denoiser network D_G is built on.</summary>
    public INoiseNet Net { get; }

    /// <summary>The preconditioning (the teacher's σd).</summary>
    public Edm Edm { get; }

    /// <summary>The noise level the generator denoises from.</summary>
    public double SigmaInit { get; }

    /// <inheritdoc/>
    public Shape LatentShape => Net.SampleShape;

    /// <inheritdoc/>
    public Shape SampleShape => Net.SampleShape;

    /// <inheritdoc/>
    public int NumClasses => Net.NumClasses;

    /// <inheritdoc/>
    public Tensor Generate(Tensor z, Tensor? labels) =>
        // Same float operations as DiffusionSampler's first Euler step, so sampling a saved student reproduces this.
        Edm.Denoise(Net, F.MulScalar(z, (float)SigmaInit), SigmaInit, labels);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> SamplingMetadata => new Dictionary<string, string>
    {
        [SamplerOptions.KindKey] = "euler",
        [SamplerOptions.StepsKey] = "1",
        [SamplerOptions.SigmaMaxKey] = SigmaInit.ToString("R", CultureInfo.InvariantCulture),
        [Edm.SigmaDataKey] = Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The one-step generator a checkpoint's metadata describes (one Euler step at σ_max), or null when the
    /// metadata names another sampler.
    /// </summary>
    public static OneStepGenerator? FromMetadata(Module denoiser, IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.GetValueOrDefault(SamplerOptions.KindKey) != "euler" || metadata.GetValueOrDefault(SamplerOptions.StepsKey) != "1"
            || !metadata.TryGetValue(SamplerOptions.SigmaMaxKey, out var s))
            return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var sigma))
            throw new ArgumentException($"OneStepGenerator: metadata '{SamplerOptions.SigmaMaxKey}' = '{s}' is not a number");
        return new OneStepGenerator(denoiser, Edm.FromMetadata(metadata), sigma);
    }
}
