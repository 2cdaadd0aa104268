using DiffKernels.Diffusion.Models;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Schedules;

/// <summary>
/// EDM (Karras et al. 2022) in σ-space: the preconditioned denoiser D(x; σ, c) built around any
/// <see cref="INoiseNet"/>, the log-normal training σ distribution, the denoising loss, and
/// classifier-free guidance. Scalar σ arithmetic is done in double on the host.
/// </summary>
public sealed class Edm
{
    /// <summary>Creates the schedule; σd is the data standard deviation shared by every network derived from a teacher.</summary>
    public Edm(double sigmaData = 0.5, double pMean = -1.2, double pStd = 1.2)
    {
        if (!(sigmaData > 0) || !double.IsFinite(sigmaData)) throw new ArgumentOutOfRangeException(nameof(sigmaData), $"Edm: sigma_data {sigmaData} must be positive and finite");
        if (!double.IsFinite(pMean)) throw new ArgumentOutOfRangeException(nameof(pMean), $"Edm: p_mean {pMean} must be finite");
        if (!(pStd >= 0) || !double.IsFinite(pStd)) throw new ArgumentOutOfRangeException(nameof(pStd), $"Edm: p_std {pStd} must be finite and ≥ 0");
        SigmaData = sigmaData;
        PMean = pMean;
        PStd = pStd;
    }

    /// <summary>Metadata key under which checkpoints record σd.</summary>
    public const string SigmaDataKey = "sigma_data";

    /// <summary>
    /// The schedule a checkpoint's metadata describes (σd from <see cref="SigmaDataKey"/>, default 0.5); a value that
    /// is not a positive number throws an ArgumentException naming the key and the value.
    /// </summary>
    public static Edm FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(SigmaDataKey, out var v)) return new Edm();
        if (!double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double sigmaData)
            || !(sigmaData > 0) || !double.IsFinite(sigmaData))
            throw new ArgumentException($"metadata '{SigmaDataKey}' = '{v}' is not a positive number");
        return new Edm(sigmaData);
    }

    /// <summary>σd, the assumed standard deviation of the data.</summary>
    public double SigmaData { get; }

    /// <summary>Mean of ln σ during training.</summary>
    public double PMean { get; }

    /// <summary>Standard deviation of ln σ during training.</summary>
    public double PStd { get; }

    /// <summary>The preconditioning coefficients at <paramref name="sigma"/> (&gt; 0).</summary>
    public EdmCoefficients Coefficients(double sigma)
    {
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), $"Edm: sigma {sigma} must be positive and finite");
        double sd2 = SigmaData * SigmaData, total = sigma * sigma + sd2, root = Math.Sqrt(total);
        return new EdmCoefficients(sd2 / total, sigma * SigmaData / root, 1 / root, Math.Log(sigma) / 4);
    }

    /// <summary>The EDM loss weight λ(σ) = (σ² + σd²)/(σ·σd)², which equals 1/c_out².</summary>
    public double LossWeight(double sigma) => (sigma * sigma + SigmaData * SigmaData) / (sigma * SigmaData * (sigma * SigmaData));

    /// <summary>D(x; σ, c) for one noise level shared by the whole batch.</summary>
    public Tensor Denoise(INoiseNet net, Tensor x, double sigma, Tensor? labels = null)
    {
        var c = Coefficients(sigma);
        var cNoise = Tensor.Full([x.Shape[0]], (float)c.CNoise, x.Device);
        var f = net.Forward(F.MulScalar(x, (float)c.CIn), cNoise, labels);
        return F.EdmDenoise(x, f, (float)c.CSkip, (float)c.COut);
    }

    /// <summary>D(x; σ, c) with one noise level per sample: <paramref name="sigma"/> is [N].</summary>
    public Tensor Denoise(INoiseNet net, Tensor x, Tensor sigma, Tensor? labels = null)
    {
        var (netIn, cNoise) = NetworkInputs(x, sigma);
        return F.EdmDenoise(x, net.Forward(netIn, cNoise, labels), sigma, (float)SigmaData);
    }

    /// <summary>
    /// Classifier-free guidance: D_w = D(x; σ, ∅) + w·(D(x; σ, c) − D(x; σ, ∅)) with ∅ the label −1.
    /// Both branches run as one batch of 2N. Without labels, or with w = 1, it is plain D(x; σ, c).
    /// </summary>
    public Tensor GuidedDenoise(INoiseNet net, Tensor x, double sigma, Tensor? labels, double guidance)
    {
        if (labels == null || guidance == 1) return Denoise(net, x, sigma, labels);
        int n = x.Shape[0];
        var both = F.Concat([x, x], 0);
        var bothLabels = F.Concat([labels, Tensor.Full([n], -1f, labels.Device)], 0);
        var d = Denoise(net, both, sigma, bothLabels);
        var cond = F.Narrow(d, 0, 0, n);
        var uncond = F.Narrow(d, 0, n, n);
        return F.Add(uncond, F.MulScalar(F.Sub(cond, uncond), (float)guidance));
    }

    /// <summary>
    /// <see cref="GuidedDenoise(INoiseNet, Tensor, double, Tensor?, double)"/> with one noise level per sample:
    /// <paramref name="sigma"/> is [N]; both branches run as one batch of 2N.
    /// </summary>
    public Tensor GuidedDenoise(INoiseNet net, Tensor x, Tensor sigma, Tensor? labels, double guidance)
    {
        if (labels == null || guidance == 1) return Denoise(net, x, sigma, labels);
        int n = x.Shape[0];
        var d = Denoise(net, F.Concat([x, x], 0), F.Concat([sigma, sigma], 0), F.Concat([labels, Tensor.Full([n], -1f, labels.Device)], 0));
        var cond = F.Narrow(d, 0, 0, n);
        var uncond = F.Narrow(d, 0, n, n);
        return F.Add(uncond, F.MulScalar(F.Sub(cond, uncond), (float)guidance));
    }

    /// <summary>ln σ ~ N(PMean, PStd²) for <paramref name="n"/> samples: a tensor [N].</summary>
    public Tensor SampleSigma(int n, Generator gen, Device? device = null) =>
        F.Exp(gen.Normal([n], device, (float)PMean, (float)PStd));

    /// <summary>
    /// The EDM denoising loss for clean data <paramref name="x0"/>, per-sample <paramref name="sigma"/> [N]
    /// and unit <paramref name="noise"/> (shaped like x0): with x = x0 + σ·n, the unit-weight squared
    /// error of F(c_in·x; c_noise, c) against (x0 − c_skip·x)/c_out, summed over each sample's elements
    /// and averaged over the batch. Since λ·c_out² = 1 this equals E[λ(σ)·‖D(x; σ) − x0‖²].
    /// </summary>
    public Tensor Loss(INoiseNet net, Tensor x0, Tensor sigma, Tensor noise, Tensor? labels = null)
    {
        if (noise.Shape != x0.Shape) throw new ArgumentException($"Edm.Loss: noise {noise.Shape} must match x0 {x0.Shape}");
        int n = x0.Shape[0];
        // x0, σ and the noise are data here: no gradient reaches them, whatever they require.
        Tensor netIn, target, cNoise;
        using (Tensor.NoGrad()) (_, netIn, target, cNoise) = F.EdmTrainingInputs(x0, noise, sigma, (float)SigmaData);
        var f = net.Forward(netIn, cNoise, labels);
        return F.MulScalar(F.Sum(F.Square(F.Sub(f, target))), 1f / n);
    }

    /// <summary>The loss with σ and noise drawn from <paramref name="gen"/> (σ first, then the noise).</summary>
    public Tensor Loss(INoiseNet net, Tensor x0, Tensor? labels, Generator gen)
    {
        var sigma = SampleSigma(x0.Shape[0], gen, x0.Device);
        var noise = gen.Normal(x0.Shape, x0.Device);
        return Loss(net, x0, sigma, noise, labels);
    }

    /// <summary>The network's input c_in(σ)·x and its noise conditioning c_noise(σ) [N] for per-sample σ [N].</summary>
    private (Tensor NetIn, Tensor CNoise) NetworkInputs(Tensor x, Tensor sigma)
    {
        if (sigma.Shape != new Shape(x.Shape[0]))
            throw new ArgumentException($"Edm: sigma must be [{x.Shape[0]}] for x {x.Shape}, got {sigma.Shape}");
        float sd = (float)SigmaData;
        var cIn = F.Rsqrt(F.AddScalar(F.Square(F.Reshape(sigma, BatchShape(x))), sd * sd));
        return (F.Mul(x, cIn), F.MulScalar(F.Log(sigma), 0.25f));
    }

    /// <summary>[N, 1, …, 1] with the rank of <paramref name="x"/>.</summary>
    private static int[] BatchShape(Tensor x)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        return shape;
    }
}
