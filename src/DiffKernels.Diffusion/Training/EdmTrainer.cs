using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// Trains an EDM teacher: any <see cref="INoiseNet"/> module on any <see cref="IDataSource"/>, with Adam and
/// a linear warm-up, an EMA by half-life, label dropout for guidance, and non-finite steps skipped. With an
/// output directory it writes <see cref="CheckpointFile"/> (EMA weights under the model's own names, so it
/// samples directly, plus the raw weights, Adam state, step and RNG offsets, all in one safetensors file),
/// a JSONL log and preview images. Resuming from a checkpoint reproduces the uninterrupted run bit for bit.
/// The trainer owns the model and disposes it.
/// </summary>
public sealed partial class EdmTrainer : ILoopedRun, IDisposable
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "model.safetensors";

    /// <summary>The JSONL log written in the output directory.</summary>
    public const string LogFile = RunLoop.LogFile;

    // A fixed odd constant keys the noise stream apart from the data stream of the same seed.
    private const ulong NoiseKey = 0x9E3779B97F4A7C15UL;

    private readonly INoiseNet _net;
    private readonly Adam _adam;
    private readonly Ema _ema;
    private readonly Generator _dataGen;
    private readonly Generator _noiseGen;
    private readonly LrSchedule _schedule;
    private readonly Device _device;
    private int _consecutiveSkips;

    /// <summary>Starts a run at step 0 with the model's current weights (which also start the EMA).</summary>
    public EdmTrainer(Module model, IDataSource data, TrainerOptions options, string? outDir = null)
        : this(model, data, options, outDir, step: 0, dataOffset: 0, noiseOffset: 0)
    {
    }

    private EdmTrainer(Module model, IDataSource data, TrainerOptions options, string? outDir, long step, ulong dataOffset, ulong noiseOffset)
    {
        options.Validate();
        _net = model as INoiseNet ?? throw new ArgumentException($"EdmTrainer: {model.GetType().Name} is not an INoiseNet");
        // Checkpoints need the model's kind and config: fail now rather than at the first save.
        if (outDir != null) ModelFactory.Describe(model);
        if (_net.SampleShape != data.SampleShape)
            throw new ArgumentException($"EdmTrainer: model sample shape {_net.SampleShape} does not match data {data.Name} {data.SampleShape}");
        if (_net.NumClasses > 0 && data.NumClasses != _net.NumClasses)
            throw new ArgumentException($"EdmTrainer: model has {_net.NumClasses} classes, data {data.Name} has {data.NumClasses}");
        bool points = _net.SampleShape == new Shape(2), images = _net.SampleShape.Rank == 3;
        if (options.PreviewSamples > 0 && !points && !images)
            throw new ArgumentException($"EdmTrainer: previews draw 2D points or images, not samples of shape {_net.SampleShape}");
        Model = model;
        Data = data;
        Options = options;
        OutDir = outDir;
        Step = step;
        Edm = new Edm(options.SigmaData, options.PMean, options.PStd);
        _device = model.Parameters().First().Device;
        _adam = new Adam(model.Parameters(), options.Lr, 0.9f, 0.999f, 1e-8f);
        _ema = new Ema(model);
        _dataGen = new Generator(options.Seed, dataOffset);
        _noiseGen = new Generator(options.Seed ^ NoiseKey, noiseOffset);
        _schedule = LrSchedule.Constant(options.Lr, options.WarmupSteps);
        model.Train();
        if (outDir != null) Directory.CreateDirectory(outDir);
    }

    /// <summary>The network being trained (raw weights).</summary>
    public Module Model { get; }

    /// <summary>The training data.</summary>
    public IDataSource Data { get; }

    /// <summary>The run's settings.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The EDM schedule built from <see cref="Options"/>.</summary>
    public Edm Edm { get; }

    /// <summary>Where checkpoints, log and previews go (null: nowhere).</summary>
    public string? OutDir { get; }

    /// <summary>Steps completed.</summary>
    public long Step { get; private set; }

    /// <summary>Steps skipped so far for a non-finite loss or gradient.</summary>
    public long Skipped { get; private set; }

    /// <summary>The EMA of the weights (what checkpoints store under the model's names).</summary>
    public IReadOnlyDictionary<string, Tensor> EmaWeights => _ema.Shadow;

    /// <summary>Called with each warning (a skipped step), besides the log.</summary>
    public Action<string>? OnWarning { get; set; }

    /// <summary>The checkpoint path in <see cref="OutDir"/>, or null.</summary>
    public string? CheckpointPath => OutDir == null ? null : Path.Combine(OutDir, CheckpointFile);

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Steps"/>, reporting every step to <paramref name="progress"/>.
    /// Cancellation is checked before each step: the run then saves a checkpoint and returns with
    /// Interrupted set. Throws <see cref="TrainingDivergedException"/> after too many consecutive skips.
    /// </summary>
    public TrainResult Run(CancellationToken cancel = default, Action<TrainProgress>? progress = null)
    {
        float loss = 0, lr = 0;
        return RunLoop.Run(this, new RunSchedule(Options.Steps, Options.BatchSize, Options.LogEvery, Options.CheckpointEvery, Options.PreviewSamples), cancel,
            log =>
            {
                (loss, lr, bool skipped) = TrainStep(log);
                Step++;
                return [skipped ? double.NaN : loss];
            },
            progress == null ? null : (_, samplesPerSecond, elapsed) => progress(new TrainProgress(Step, Options.Steps, loss, lr, samplesPerSecond, elapsed, Skipped)),
            (means, samplesPerSecond, elapsed) => new (string, double?)[] { ("loss", means[0]), ("lr", RunLoop.Shortest(lr)) }.Concat(RunLoop.Tail(this, samplesPerSecond, elapsed)));
    }

    /// <summary>One optimiser step; returns its loss, its learning rate and whether it was skipped.</summary>
    private (float Loss, float Lr, bool Skipped) TrainStep(RunLog? log)
    {
        using var scope = Tensor.Scope();
        var batch = Data.Batch(Step, Options.BatchSize, _dataGen, _device);
        var sigma = Edm.SampleSigma(Options.BatchSize, _noiseGen, _device);
        var noise = _noiseGen.Normal(batch.X.Shape, _device);
        var labels = _net.NumClasses > 0 ? DropLabels(batch.Labels!) : null;
        var loss = Edm.Loss(_net, batch.X, sigma, noise, labels);
        float value = loss.Item();
        float lr = _schedule.At(Step);
        string? problem = null;
        if (!float.IsFinite(value))
        {
            problem = $"non-finite loss ({value.ToString(CultureInfo.InvariantCulture)})";
        }
        else
        {
            loss.Backward();
            float norm = Options.GradClip is { } clip ? GradClip.ClipGlobalNorm(_adam.Parameters, clip) : GradClip.GlobalNorm(_adam.Parameters);
            if (!float.IsFinite(norm)) problem = $"non-finite gradient norm ({norm.ToString(CultureInfo.InvariantCulture)})";
        }
        if (problem == null)
        {
            _adam.Lr = lr;
            _adam.Step();
            long seen = (Step + 1) * Options.BatchSize;
            _ema.Update(Ema.HalfLifeBeta(Options.BatchSize, Options.EmaHalfLifeImages, seen, Options.EmaRampRatio));
            _consecutiveSkips = 0;
        }
        _adam.ZeroGrad();
        if (problem != null)
        {
            Skipped++;
            _consecutiveSkips++;
            string message = $"step {Step + 1}: {problem}; step skipped";
            log?.Warning(Step + 1, message);
            OnWarning?.Invoke(message);
            if (_consecutiveSkips > Options.MaxConsecutiveSkips)
                throw new TrainingDivergedException($"training diverged: {_consecutiveSkips} consecutive steps had a non-finite loss or gradient (last at step {Step + 1}: {problem}); lower the learning rate or resume from the last checkpoint");
        }
        return (value, lr, problem != null);
    }

    /// <summary>Replaces each label by −1 with probability <see cref="TrainerOptions.LabelDropout"/>, drawn from the noise stream.</summary>
    private Tensor DropLabels(Tensor labels)
    {
        if (Options.LabelDropout == 0) return labels;
        var u = _noiseGen.Uniform(labels.Shape, Device.Cpu).ToArray();
        var values = labels.ToArray();
        for (int i = 0; i < values.Length; i++)
            if (u[i] < Options.LabelDropout) values[i] = -1;
        return Tensor.FromSpan(values, labels.Shape, _device);
    }

    /// <summary>Releases the model, the optimiser state and the EMA.</summary>
    public void Dispose()
    {
        _adam.Dispose();
        _ema.Dispose();
        Model.Dispose();
    }
}
