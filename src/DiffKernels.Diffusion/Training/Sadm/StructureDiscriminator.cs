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

    /// <summary>S as the denoiser minimises it: the real batch's structure under no gradient, the predictions' with their graph.</summary>
    public Tensor DenoiserDistance(Tensor real, Tensor predicted)
    {
        Tensor target;
        using (Tensor.NoGrad()) target = Encoder.Features(real);
        return StructuralDistance.Compute(target, Encoder.Features(predicted), Options.Distance, Options.Temperature);
    }

    /// <summary>S as the encoder maximises it: both batches through E_φ, the predictions as SG(x̂).</summary>
    public Tensor EncoderDistance(Tensor real, Tensor predicted) =>
        StructuralDistance.Compute(Encoder.Features(real), Encoder.Features(predicted.Detach()), Options.Distance, Options.Temperature);

    /// <summary>
    /// One encoder update that raises S on (<paramref name="real"/>, SG(<paramref name="predicted"/>)); returns the
    /// encoder's loss −S (NaN when <paramref name="update"/> skipped it).
    /// </summary>
    public double Step(RunUpdate update, Tensor real, Tensor predicted)
    {
        Optimiser.ZeroGrad();
        var (loss, applied) = update.Minimise("encoder", F.Neg(EncoderDistance(real, predicted)), Optimiser);
        Optimiser.ZeroGrad();
        return applied ? loss : double.NaN;
    }

    /// <summary>Releases the encoder.</summary>
    public void Dispose() => Encoder.Dispose();
}
