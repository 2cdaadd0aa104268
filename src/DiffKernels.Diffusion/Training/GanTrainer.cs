using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Adversarial training of a <see cref="GanGenerator"/> against a <see cref="GanDiscriminator"/> with the
/// non-saturating logistic loss: each iteration first updates D on softplus(−D(x)) + softplus(D(SG(G(z)))) (a real
/// batch and a fresh generated one), then G on softplus(−D(G(z′))) with fresh latents, then the EMA of G. Both
/// optimisers are Adam (DCGAN: β₁ = 0.5, β₂ = 0.999). Conditional networks see the real labels and uniformly drawn
/// labels for generated images. A non-finite loss or gradient skips that update with a warning; too many in a
/// row stop the run. With an output directory it writes <see cref="CheckpointFile"/> (the generator's EMA under
/// its own names with its sampling metadata, so it samples directly, plus everything a bit-exact resume needs),
/// a JSONL log and preview grids. The trainer owns both networks and disposes them.
/// </summary>
public sealed partial class GanTrainer : TrainingRun<GanOptions>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "gan.safetensors";

    /// <summary>Metadata value of <see cref="CheckpointKeys.Method"/> in GAN training checkpoints.</summary>
    public const string Method = "gan";

    private static readonly string[] Values = ["d_loss", "g_loss"];

    private readonly Adam _generatorAdam;
    private readonly Adam _discriminatorAdam;
    private readonly Generator _dataGen;
    private readonly Generator _noiseGen;

    /// <summary>Starts a run at iteration 0 from the networks' current weights (which also start the EMA).</summary>
    public GanTrainer(GanGenerator generator, GanDiscriminator discriminator, IDataSource data, GanOptions options, string? outDir = null)
        : base(options, Checked(generator, discriminator, data), outDir, CheckpointFile)
    {
        Generator = generator;
        Discriminator = discriminator;
        Data = data;
        _generatorAdam = new Adam(generator.Parameters(), options.GeneratorLr, options.Beta1, options.Beta2, options.Eps);
        _discriminatorAdam = new Adam(discriminator.Parameters(), options.DiscriminatorLr, options.Beta1, options.Beta2, options.Eps);
        State.Add(new MetadataPart(() => generator.SamplingMetadata.Append(new(CheckpointKeys.Method, Method))
            .Append(new(CheckpointKeys.DiscriminatorConfig, discriminator.Config.ToJson()))));
        State.Add(new ModulePart(CheckpointKeys.Generator, generator));
        State.Add(new AdamPart(CheckpointKeys.GeneratorAdam, _generatorAdam, generator));
        State.Add(new ModulePart(CheckpointKeys.Discriminator, discriminator));
        State.Add(new AdamPart(CheckpointKeys.DiscriminatorAdam, _discriminatorAdam, discriminator));
        (_dataGen, _noiseGen) = TrainOn(data);
        generator.Train();
        discriminator.Train();
    }

    private static GanGenerator Checked(GanGenerator generator, GanDiscriminator discriminator, IDataSource data)
    {
        var g = generator.Config;
        var d = discriminator.Config;
        if (g.ImageSize != d.ImageSize || g.Channels != d.Channels || g.NumClasses != d.NumClasses)
            throw new ArgumentException($"GanTrainer: generator ({g.ImageSize}×{g.ImageSize}×{g.Channels}, {g.NumClasses} classes) and discriminator ({d.ImageSize}×{d.ImageSize}×{d.Channels}, {d.NumClasses} classes) disagree");
        if (generator.SampleShape != data.SampleShape)
            throw new ArgumentException($"GanTrainer: generator samples {generator.SampleShape} do not match data {data.Name} {data.SampleShape}");
        if (g.NumClasses > 0 && data.NumClasses != g.NumClasses)
            throw new ArgumentException($"GanTrainer: the networks have {g.NumClasses} classes, data {data.Name} has {data.NumClasses}");
        return generator;
    }

    /// <summary>The generator being trained (raw weights).</summary>
    public GanGenerator Generator { get; }

    /// <summary>The discriminator being trained.</summary>
    public GanDiscriminator Discriminator { get; }

    /// <summary>The real images.</summary>
    public IDataSource Data { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => Values;

    /// <inheritdoc/>
    protected override string Activity => "GAN training";

    /// <summary>One discriminator update, one generator update and the EMA; returns both losses (before their updates).</summary>
    protected override double[] Iterate(RunUpdate update)
    {
        double dLoss, gLoss;
        using (Tensor.Scope())
        {
            // Every draw covers the whole batch on every rank (streams independent of the world size); a rank computes on its rows.
            var batch = Data.Batch(Step, Options.BatchSize, _dataGen, Device);
            var realLabels = Generator.NumClasses > 0 ? Shard.Rows(batch.Labels) : null;
            var (zs, ls) = DrawLatents(Generator, _noiseGen);
            var (z, labels) = (Shard.RowsOf(zs), Shard.Rows(ls));
            Tensor fake;
            using (Tensor.NoGrad()) fake = Generator.Generate(z, labels);
            var loss = F.GanDiscriminatorLoss(Discriminator.Forward(Shard.RowsOf(batch.X), realLabels), Discriminator.Forward(fake, labels));
            dLoss = update.Minimise("discriminator", loss, _discriminatorAdam).Loss;
            _discriminatorAdam.ZeroGrad();
        }
        using (Tensor.Scope())
        {
            var (zs, ls) = DrawLatents(Generator, _noiseGen);
            var (z, labels) = (Shard.RowsOf(zs), Shard.Rows(ls));
            (gLoss, bool applied) = update.Minimise("generator", F.GanGeneratorLoss(Discriminator.Forward(Generator.Generate(z, labels), labels)), _generatorAdam);
            if (applied) UpdateEma();
            // The generator's loss also reached the discriminator's parameters; that gradient is not an update.
            _generatorAdam.ZeroGrad();
            _discriminatorAdam.ZeroGrad();
        }
        return [dLoss, gLoss];
    }

    /// <summary>
    /// <paramref name="n"/> images of the generator's EMA weights from latents drawn by Generator(<paramref name="seed"/>)
    /// (conditional generators get labels i mod classes), owned by the current scope: the images `dk sample --seed`
    /// draws from the checkpoint. The raw weights are restored afterwards.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed) => SampleEma(Generator, n, seed);

    /// <summary>Writes a grid of <see cref="RunOptions.PreviewSamples"/> EMA images (at most 100) to <paramref name="path"/>.</summary>
    public override void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        SavePreview(path, SampleEma(Math.Clamp(Options.PreviewSamples, 1, 100), PreviewSeed));
    }

    /// <inheritdoc/>
    protected override void DisposeNetworks()
    {
        Generator.Dispose();
        Discriminator.Dispose();
    }
}
