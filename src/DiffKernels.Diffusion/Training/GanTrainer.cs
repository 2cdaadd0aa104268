using System.Globalization;
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
public sealed partial class GanTrainer : ILoopedRun, IDisposable
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "gan.safetensors";

    /// <summary>The JSONL log written in the output directory.</summary>
    public const string LogFile = RunLoop.LogFile;

    // A fixed odd constant keys the latent stream apart from the data stream of the same seed.
    private const ulong NoiseKey = 0x9E3779B97F4A7C15UL;

    private readonly Adam _generatorAdam;
    private readonly Adam _discriminatorAdam;
    private readonly Ema _ema;
    private readonly Generator _dataGen;
    private readonly Generator _noiseGen;
    private readonly Device _device;
    private int _consecutiveSkips;

    /// <summary>Starts a run at iteration 0 from the networks' current weights (which also start the EMA).</summary>
    public GanTrainer(GanGenerator generator, GanDiscriminator discriminator, IDataSource data, GanOptions options, string? outDir = null)
        : this(generator, discriminator, data, options, outDir, step: 0, dataOffset: 0, noiseOffset: 0)
    {
    }

    private GanTrainer(GanGenerator generator, GanDiscriminator discriminator, IDataSource data, GanOptions options, string? outDir, long step, ulong dataOffset, ulong noiseOffset)
    {
        options.Validate();
        var g = generator.Config;
        var d = discriminator.Config;
        if (g.ImageSize != d.ImageSize || g.Channels != d.Channels || g.NumClasses != d.NumClasses)
            throw new ArgumentException($"GanTrainer: generator ({g.ImageSize}×{g.ImageSize}×{g.Channels}, {g.NumClasses} classes) and discriminator ({d.ImageSize}×{d.ImageSize}×{d.Channels}, {d.NumClasses} classes) disagree");
        if (generator.SampleShape != data.SampleShape)
            throw new ArgumentException($"GanTrainer: generator samples {generator.SampleShape} do not match data {data.Name} {data.SampleShape}");
        if (g.NumClasses > 0 && data.NumClasses != g.NumClasses)
            throw new ArgumentException($"GanTrainer: the networks have {g.NumClasses} classes, data {data.Name} has {data.NumClasses}");
        Generator = generator;
        Discriminator = discriminator;
        Data = data;
        Options = options;
        OutDir = outDir;
        Step = step;
        _device = generator.Parameters().First().Device;
        _generatorAdam = new Adam(generator.Parameters(), options.GeneratorLr, options.Beta1, options.Beta2, options.Eps);
        _discriminatorAdam = new Adam(discriminator.Parameters(), options.DiscriminatorLr, options.Beta1, options.Beta2, options.Eps);
        _ema = new Ema(generator);
        _dataGen = new Generator(options.Seed, dataOffset);
        _noiseGen = new Generator(options.Seed ^ NoiseKey, noiseOffset);
        generator.Train();
        discriminator.Train();
        if (outDir != null) Directory.CreateDirectory(outDir);
    }

    /// <summary>The generator being trained (raw weights).</summary>
    public GanGenerator Generator { get; }

    /// <summary>The discriminator being trained.</summary>
    public GanDiscriminator Discriminator { get; }

    /// <summary>The real images.</summary>
    public IDataSource Data { get; }

    /// <summary>The run's settings.</summary>
    public GanOptions Options { get; }

    /// <summary>Where checkpoints, log and previews go (null: nowhere).</summary>
    public string? OutDir { get; }

    /// <summary>Iterations completed.</summary>
    public long Step { get; private set; }

    /// <summary>Updates (discriminator or generator) skipped so far for a non-finite loss or gradient.</summary>
    public long Skipped { get; private set; }

    /// <summary>The generator's EMA weights (what checkpoints store under the generator's names).</summary>
    public IReadOnlyDictionary<string, Tensor> EmaWeights => _ema.Shadow;

    /// <summary>Called with each warning (a skipped update), besides the log.</summary>
    public Action<string>? OnWarning { get; set; }

    /// <summary>The checkpoint path in <see cref="OutDir"/>, or null.</summary>
    public string? CheckpointPath => OutDir == null ? null : Path.Combine(OutDir, CheckpointFile);

    /// <summary>
    /// Trains until <see cref="GanOptions.Steps"/>, reporting every iteration. Cancellation is checked before each
    /// iteration: the run then saves a checkpoint and returns with Interrupted set. Throws
    /// <see cref="TrainingDivergedException"/> after too many consecutive iterations with a skipped update.
    /// </summary>
    public TrainResult Run(CancellationToken cancel = default, Action<GanProgress>? progress = null) =>
        RunLoop.Run(this, new RunSchedule(Options.Steps, Options.BatchSize, Options.LogEvery, Options.CheckpointEvery, Options.PreviewSamples), cancel,
            log =>
            {
                var (dLoss, gLoss) = Iterate(log);
                Step++;
                return [dLoss, gLoss];
            },
            progress == null ? null : (v, samplesPerSecond, elapsed) => progress(new GanProgress(Step, Options.Steps, v[0], v[1], samplesPerSecond, elapsed, Skipped)),
            (means, samplesPerSecond, elapsed) => new (string, double?)[] { ("d_loss", means[0]), ("g_loss", means[1]) }.Concat(RunLoop.Tail(this, samplesPerSecond, elapsed)));

    /// <summary>One discriminator update, one generator update and the EMA; returns both losses (before their updates).</summary>
    private (double DLoss, double GLoss) Iterate(RunLog? log)
    {
        var problems = new List<string>();
        double dLoss, gLoss;
        using (Tensor.Scope())
        {
            var batch = Data.Batch(Step, Options.BatchSize, _dataGen, _device);
            var realLabels = Generator.NumClasses > 0 ? batch.Labels : null;
            var (z, labels) = DrawLatents();
            Tensor fake;
            using (Tensor.NoGrad()) fake = Generator.Generate(z, labels);
            var loss = F.GanDiscriminatorLoss(Discriminator.Forward(batch.X, realLabels), Discriminator.Forward(fake, labels));
            dLoss = loss.Item();
            if (!double.IsFinite(dLoss)) problems.Add($"discriminator: non-finite loss ({Invariant(dLoss)})");
            else
            {
                loss.Backward();
                if (Update(_discriminatorAdam) is { } p) problems.Add("discriminator: " + p);
            }
            _discriminatorAdam.ZeroGrad();
        }
        bool generatorUpdated = false;
        using (Tensor.Scope())
        {
            var (z, labels) = DrawLatents();
            var loss = F.GanGeneratorLoss(Discriminator.Forward(Generator.Generate(z, labels), labels));
            gLoss = loss.Item();
            if (!double.IsFinite(gLoss)) problems.Add($"generator: non-finite loss ({Invariant(gLoss)})");
            else
            {
                loss.Backward();
                if (Update(_generatorAdam) is { } p) problems.Add("generator: " + p);
                else generatorUpdated = true;
            }
            // The generator's loss also reached the discriminator's parameters; that gradient is not an update.
            _generatorAdam.ZeroGrad();
            _discriminatorAdam.ZeroGrad();
        }
        if (generatorUpdated)
        {
            long seen = (Step + 1) * Options.BatchSize;
            _ema.Update(Options.EmaHalfLifeSamples is { } h ? Ema.HalfLifeBeta(Options.BatchSize, h, seen, Options.EmaRampRatio) : 0f);
        }
        if (problems.Count == 0)
        {
            _consecutiveSkips = 0;
            return (dLoss, gLoss);
        }
        Skipped += problems.Count;
        _consecutiveSkips++;
        string message = $"step {Step + 1}: {string.Join("; ", problems)}; update skipped";
        log?.Warning(Step + 1, message);
        OnWarning?.Invoke(message);
        if (_consecutiveSkips > Options.MaxConsecutiveSkips)
            throw new TrainingDivergedException($"GAN training diverged: {_consecutiveSkips} consecutive iterations had a non-finite loss or gradient (last at step {Step + 1}: {string.Join("; ", problems)}); lower the learning rates or resume from the last checkpoint");
        return (dLoss, gLoss);
    }

    /// <summary>Applies the accumulated gradients; returns the problem when their norm is not finite.</summary>
    private static string? Update(Adam adam)
    {
        float norm = GradClip.GlobalNorm(adam.Parameters);
        if (!float.IsFinite(norm)) return $"non-finite gradient norm ({Invariant(norm)})";
        adam.Step();
        return null;
    }

    /// <summary>Latents [B, LatentDim] and, for conditional networks, uniformly drawn class ids.</summary>
    private (Tensor Z, Tensor? Labels) DrawLatents()
    {
        var z = _noiseGen.Normal([Options.BatchSize, .. Generator.LatentShape], _device);
        if (Generator.NumClasses == 0) return (z, null);
        var u = _noiseGen.Uniform([Options.BatchSize], Device.Cpu).ToArray();
        var labels = u.Select(v => (float)Math.Min((int)(v * Generator.NumClasses), Generator.NumClasses - 1)).ToArray();
        return (z, Tensor.FromSpan(labels, [Options.BatchSize], _device));
    }

    private static string Invariant(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>Releases the optimiser states, the EMA and both networks.</summary>
    public void Dispose()
    {
        _generatorAdam.Dispose();
        _discriminatorAdam.Dispose();
        _ema.Dispose();
        Generator.Dispose();
        Discriminator.Dispose();
    }
}
