using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training.Sadm;

/// <summary>
/// SADM's structure discriminator: the encoder E_φ with its AdamW (weight decay), and the structural distance S as
/// each player sees it. The denoiser's S takes the real batch's structure as a fixed target (no gradient reaches the
/// real batch); the encoder's S sees the predictions as SG(x̂) and is maximised. It owns the encoder; the optimiser
/// goes to whoever saves it (<see cref="AdamPart"/> disposes it).
/// </summary>
public sealed class StructureDiscriminator : IDisposable
{
    /// <summary>An encoder of samples of <paramref name="sampleShape"/> drawn from <paramref name="gen"/>, with its optimiser.</summary>
    public StructureDiscriminator(Shape sampleShape, SadmOptions options, Generator gen, Device? device = null)
    {
        Options = options;
        Encoder = new StructureEncoder(sampleShape, options.EncoderWidths, options.Features, gen, device);
        Optimiser = new AdamW(Encoder.Parameters(), options.EncoderLr, options.EncoderBeta1, options.EncoderBeta2, 1e-8f, options.WeightDecay);
    }

    /// <summary>The settings (distance, temperature, encoder).</summary>
    public SadmOptions Options { get; }

    /// <summary>E_φ.</summary>
    public StructureEncoder Encoder { get; }

    /// <summary>The encoder's AdamW.</summary>
    public AdamW Optimiser { get; }

    /// <summary>
    /// S as the denoiser minimises it: the real batch's structure under no gradient, the predictions' with their graph.
    /// Given <paramref name="gather"/> (a rank's rows to the whole batch's features, see <see cref="RunUpdate.Gather"/>)
    /// the batches are a rank's rows and S is the whole batch's.
    /// </summary>
    public Tensor DenoiserDistance(Tensor real, Tensor predicted, Func<Tensor, Tensor>? gather = null)
    {
        gather ??= rows => rows;
        Tensor target;
        using (Tensor.NoGrad()) target = gather(Encoder.Features(real));
        return StructuralDistance.Compute(target, gather(Encoder.Features(predicted)), Options.Distance, Options.Temperature);
    }

    /// <summary>S as the encoder maximises it: both batches through E_φ, the predictions as SG(x̂) (<paramref name="gather"/> as for <see cref="DenoiserDistance"/>).</summary>
    public Tensor EncoderDistance(Tensor real, Tensor predicted, Func<Tensor, Tensor>? gather = null)
    {
        gather ??= rows => rows;
        return StructuralDistance.Compute(gather(Encoder.Features(real)), gather(Encoder.Features(predicted.Detach())), Options.Distance, Options.Temperature);
    }

    /// <summary>
    /// One encoder update that raises S on (<paramref name="real"/>, SG(<paramref name="predicted"/>)); returns the
    /// encoder's loss −S (NaN when <paramref name="update"/> skipped it). Given <paramref name="rows"/>, the batches are
    /// this rank's rows of it and S is the whole batch's.
    /// </summary>
    public double Step(RunUpdate update, Tensor real, Tensor predicted, BatchShard? rows = null)
    {
        Optimiser.ZeroGrad();
        var distance = EncoderDistance(real, predicted, rows is { } shard ? t => update.Gather(t, shard) : null);
        var (loss, applied) = update.Minimise("encoder", F.Neg(update.WholeBatchTerm(distance)), Optimiser);
        Optimiser.ZeroGrad();
        return applied ? loss : double.NaN;
    }

    /// <summary>Releases the encoder.</summary>
    public void Dispose() => Encoder.Dispose();
}
