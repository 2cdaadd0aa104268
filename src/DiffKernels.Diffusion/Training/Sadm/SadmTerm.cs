using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training.Sadm;

/// <summary>
/// SADM inside an EDM run: per step, after the EDM loss, the batch is noised again (one shared σ, or one per sample),
/// denoised to x̂ = D_θ(x0 + σn; σ), and the denoiser takes one update on L_EDM + λ_t·c_skip(σ)·S(x0, x̂); then the
/// structure discriminator takes one update raising S on (x0, SG(x̂)). A non-finite denoiser loss skips the whole step
/// (the encoder is not trained on a corrupt batch). The encoder and its optimiser are part of the run's state.
/// </summary>
public sealed class SadmTerm : IDisposable
{
    /// <summary>The values a SADM step returns: the EDM loss, S, the denoiser's whole loss and the encoder's loss −S.</summary>
    public static readonly IReadOnlyList<string> ValueNames = ["loss", "structure", "denoiser_loss", "encoder_loss"];

    // Keys the encoder's initialisation apart from the run's data and noise streams of the same seed.
    private const ulong EncoderKey = 0x6A09E667F3BCC909UL;

    private readonly INoiseNet _net;
    private readonly Edm _edm;
    private readonly Generator _noise;

    /// <summary>
    /// The term of a run with <paramref name="options"/> and <paramref name="seed"/> training <paramref name="net"/>
    /// under <paramref name="edm"/>, drawing from the run's <paramref name="noise"/> stream; the encoder and its
    /// optimiser join <paramref name="state"/>.
    /// </summary>
    public SadmTerm(SadmOptions options, ulong seed, INoiseNet net, Edm edm, Generator noise, RunState state, Device device)
    {
        Options = options;
        _net = net;
        _edm = edm;
        _noise = noise;
        Discriminator = new StructureDiscriminator(net.SampleShape, options, new Generator(seed ^ EncoderKey), device);
        state.Add(new ModulePart(CheckpointKeys.Discriminator, Discriminator.Encoder));
        state.Add(new AdamPart(CheckpointKeys.DiscriminatorAdam, Discriminator.Optimiser, Discriminator.Encoder));
        Discriminator.Encoder.Train();
    }

    /// <summary>The settings.</summary>
    public SadmOptions Options { get; }

    /// <summary>The structure discriminator.</summary>
    public StructureDiscriminator Discriminator { get; }

    /// <summary>λ_t of the last step (for the log).</summary>
    public double Lambda { get; private set; }

    /// <summary>The weight of S at step <paramref name="step"/> for c_skip <paramref name="cSkip"/>: λ_t·c_skip, or λ_t without the c_skip weighting.</summary>
    public double Weight(long step, double cSkip) => Options.LambdaAt(step) * (Options.CSkipWeighting ? cSkip : 1);

    /// <summary>
    /// The structure batch of <paramref name="x0"/>: x̂ = D_θ(x0 + σn; σ) with σ and n drawn from the noise stream, and
    /// the c_skip its weight uses (c_skip(σ), or the batch's mean c_skip for per-sample σ). Given <paramref name="rows"/>,
    /// <paramref name="x0"/> and <paramref name="labels"/> are this rank's rows of the batch: the stream draws for the whole
    /// batch and the mean c_skip is the whole batch's.
    /// </summary>
    public (Tensor Predicted, double CSkip) Predict(Tensor x0, Tensor? labels, BatchShard? rows = null)
    {
        var shard = rows ?? new BatchShard(0, 1, x0.Shape[0]);
        if (shard.Count != x0.Shape[0]) throw new ArgumentException($"SadmTerm: {x0.Shape[0]} samples for a shard of {shard.Count} rows");
        var sample = _net.SampleShape;
        if (Options.SharedSigma)
        {
            double sigma = Math.Exp(_noise.Normal([1], Device.Cpu, (float)_edm.PMean, (float)_edm.PStd).ToArray()[0]);
            var noise = shard.Normal(_noise, sample, x0.Device);
            var x = F.Add(x0, F.MulScalar(noise, (float)sigma));
            return (_edm.Denoise(_net, x, sigma, labels), _edm.Coefficients(sigma).CSkip);
        }
        var all = _edm.SampleSigma(shard.BatchSize, _noise, x0.Device);
        var eps = shard.Normal(_noise, sample, x0.Device);
        var sigmas = shard.RowsOf(all);
        var perSample = Enumerable.Repeat(1, x0.Rank).ToArray();
        perSample[0] = shard.Count;
        var noisy = F.Add(x0, F.Mul(eps, F.Reshape(sigmas, perSample)));
        double cSkip = all.ToArray().Average(s => _edm.Coefficients(s).CSkip);
        return (_edm.Denoise(_net, noisy, sigmas, labels), cSkip);
    }

    /// <summary>
    /// One SADM step at <paramref name="step"/> on the batch <paramref name="x0"/> whose EDM loss is <paramref name="edmLoss"/>:
    /// the denoiser's update through <paramref name="adam"/> (then <paramref name="applied"/>, e.g. the EMA), then the
    /// encoder's. Returns the values named by <see cref="ValueNames"/> (NaN for a skipped update).
    /// Data-parallel, <paramref name="x0"/>, <paramref name="labels"/> and <paramref name="edmLoss"/> are this rank's
    /// <paramref name="rows"/> of the batch, and S stays exact: it couples the batch's rows, so each rank computes it over
    /// the whole batch's features (the other ranks' gathered as constants) and backpropagates its own rows' share.
    /// </summary>
    public double[] Step(RunUpdate update, long step, Tensor x0, Tensor? labels, Tensor edmLoss, Adam adam, Action applied, BatchShard? rows = null)
    {
        var (predicted, cSkip) = Predict(x0, labels, rows);
        Func<Tensor, Tensor>? gather = rows is { } shard ? t => update.Gather(t, shard) : null;
        var structure = update.WholeBatchTerm(Discriminator.DenoiserDistance(x0, predicted, gather));
        Lambda = Options.LambdaAt(step);
        var loss = F.Add(edmLoss, F.MulScalar(structure, (float)Weight(step, cSkip)));
        double edm = update.Average(edmLoss.Item()), s = structure.Item();
        var (value, ok) = update.Minimise("denoiser", loss, adam);
        adam.ZeroGrad();
        if (!ok) return [double.NaN, double.NaN, double.NaN, double.NaN];
        applied();
        double encoder = Discriminator.Step(update, x0, predicted, rows);
        return [edm, s, value, encoder];
    }

    /// <summary>Releases the encoder (its optimiser belongs to the run's state).</summary>
    public void Dispose() => Discriminator.Dispose();
}
