using System.Globalization;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>
/// A BOOT student g_θ(ε, σ, c): the signal y(σ) = x(σ) − σ·ε of the teacher's ODE trajectory that starts at
/// x(σmax) = σmax·ε, for the same pure noise ε at every σ. The network is the teacher's (an <see cref="INoiseNet"/>)
/// with ε in the image slot and σ only in its noise embedding:
/// <code>
/// h_θ(ε, σ) = c_skip(σmax)·σmax·ε + c_out(σmax)·F_θ(c_in(σmax)·σmax·ε; c_noise(σ), c)
/// y(σ)      = (1 − σ/σmax)·h_θ(ε, σ)
/// </code>
/// The input preconditioning is fixed at σmax, so a student initialised from the teacher starts with
/// h(ε, σmax) = D_T(σmax·ε; σmax), the teacher's x0 prediction at the largest noise (near σmax, y(σ) starts close to
/// the teacher's first Euler step (1 − σ/σmax)·D_T(σmax·ε; σmax)); and y(σmax) = 0 holds for any weights (the exact
/// boundary of the signal ODE in EDM form). h is the running x0 estimate
/// y(σ)/(1 − σ/σmax), of order one at every σ, so the network never has to output the vanishing y near σmax.
/// One-step sampling is x0 = y(σmin); <see cref="Trajectory"/> gives x(σ) = y(σ) + σ·ε at any σ.
/// </summary>
public sealed class BootStudent : IGenerator
{
    /// <summary>Metadata key marking a BOOT student; its value names the parameterisation.</summary>
    public const string ParameterisationKey = "boot_parameterisation";

    /// <summary>The parameterisation above, as checkpoints record it.</summary>
    public const string Parameterisation = "scaled-signal";

    /// <summary>Metadata key of σmin, where one-step sampling evaluates the student.</summary>
    public const string SigmaMinKey = "boot_sigma_min";

    /// <summary>Metadata key of σmax, the start of the trajectory and the student's input scale.</summary>
    public const string SigmaMaxKey = "boot_sigma_max";

    private readonly float _inScale;
    private readonly float _cSkip;
    private readonly float _cOut;

    /// <summary>Wraps <paramref name="network"/> (a module implementing <see cref="INoiseNet"/>) as a student on [σmin, σmax].</summary>
    public BootStudent(Module network, Edm edm, double sigmaMin, double sigmaMax)
    {
        Net = network as INoiseNet ?? throw new ArgumentException($"BootStudent: {network.GetType().Name} is not an INoiseNet");
        if (!(sigmaMin > 0 && sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMin), $"BootStudent: need 0 < σmin ({sigmaMin}) < σmax ({sigmaMax})");
        Module = network;
        Edm = edm;
        SigmaMin = sigmaMin;
        SigmaMax = sigmaMax;
        var c = edm.Coefficients(sigmaMax);
        _inScale = (float)(c.CIn * sigmaMax);
        _cSkip = (float)(c.CSkip * sigmaMax);
        _cOut = (float)c.COut;
    }

    /// <inheritdoc/>
    public Module Module { get; }

    /// <summary>The network F_θ.</summary>
    public INoiseNet Net { get; }

    /// <summary>The preconditioning (the teacher's σd).</summary>
    public Edm Edm { get; }

    /// <summary>The smallest σ of the trajectory: one-step samples are y(σmin).</summary>
    public double SigmaMin { get; }

    /// <summary>The start of the trajectory, x(σmax) = σmax·ε.</summary>
    public double SigmaMax { get; }

    /// <inheritdoc/>
    public Shape LatentShape => Net.SampleShape;

    /// <inheritdoc/>
    public Shape SampleShape => Net.SampleShape;

    /// <inheritdoc/>
    public int NumClasses => Net.NumClasses;

    /// <summary>
    /// The running x0 estimate h_θ(ε, σ) for noise <paramref name="eps"/> [N, …] and per-sample <paramref name="sigma"/> [N];
    /// records the graph unless called under NoGrad.
    /// </summary>
    public Tensor Estimate(Tensor eps, Tensor sigma, Tensor? labels)
    {
        CheckSigma(eps, sigma);
        var cNoise = F.MulScalar(F.Log(sigma), 0.25f);
        var f = Net.Forward(F.MulScalar(eps, _inScale), cNoise, labels);
        return F.EdmDenoise(eps, f, _cSkip, _cOut);
    }

    /// <summary>The signal y(σ) = (1 − σ/σmax)·h_θ(ε, σ) for per-sample <paramref name="sigma"/> [N]; records the graph unless under NoGrad.</summary>
    public Tensor Signal(Tensor eps, Tensor sigma, Tensor? labels)
    {
        var h = Estimate(eps, sigma, labels);
        var scale = F.AddScalar(F.MulScalar(sigma, -1f / (float)SigmaMax), 1f);
        return F.Mul(h, F.Reshape(scale, BatchShape(eps)));
    }

    /// <summary>The signal at one <paramref name="sigma"/> for the whole batch.</summary>
    public Tensor Signal(Tensor eps, double sigma, Tensor? labels) => Signal(eps, Levels(eps, sigma), labels);

    /// <summary>The student's point of the trajectory, x(σ) = y(σ) + σ·ε, at one <paramref name="sigma"/> in [σmin, σmax] for the whole batch.</summary>
    public Tensor Trajectory(Tensor eps, double sigma, Tensor? labels)
    {
        if (!(sigma >= SigmaMin && sigma <= SigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigma), $"BootStudent: σ {sigma} is outside the trajectory [{SigmaMin}, {SigmaMax}]");
        return F.Add(Signal(eps, sigma, labels), F.MulScalar(eps, (float)sigma));
    }

    /// <summary>One-step sampling: x0 = y(σmin) from noise <paramref name="z"/>.</summary>
    public Tensor Generate(Tensor z, Tensor? labels) => Signal(z, SigmaMin, labels);

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> SamplingMetadata => new Dictionary<string, string>
    {
        [ParameterisationKey] = Parameterisation,
        [SigmaMinKey] = SigmaMin.ToString("R", CultureInfo.InvariantCulture),
        [SigmaMaxKey] = SigmaMax.ToString("R", CultureInfo.InvariantCulture),
        [Edm.SigmaDataKey] = Edm.SigmaData.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>The BOOT student a checkpoint's metadata describes, or null when it records no BOOT parameterisation.</summary>
    public static BootStudent? FromMetadata(Module network, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(ParameterisationKey, out var p)) return null;
        if (p != Parameterisation) throw new ArgumentException($"BootStudent: metadata '{ParameterisationKey}' = '{p}' is not a known parameterisation ({Parameterisation})");
        return new BootStudent(network, Edm.FromMetadata(metadata), Number(metadata, SigmaMinKey), Number(metadata, SigmaMaxKey));
    }

    private static double Number(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"BootStudent: metadata '{key}' is missing or not a number");

    private static Tensor Levels(Tensor eps, double sigma) => Tensor.Full([eps.Shape[0]], (float)sigma, eps.Device);

    private static int[] BatchShape(Tensor x)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        return shape;
    }

    private static void CheckSigma(Tensor eps, Tensor sigma)
    {
        if (eps.Rank == 0 || sigma.Shape != new Shape(eps.Shape[0]))
            throw new ArgumentException($"BootStudent: sigma must be [{(eps.Rank == 0 ? 0 : eps.Shape[0])}] for noise {eps.Shape}, got {sigma.Shape}");
    }
}
