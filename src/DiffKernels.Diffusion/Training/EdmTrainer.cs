using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training.Sadm;
using DiffKernels.Backends;
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
/// With <see cref="TrainerOptions.Sadm"/> each step adds SADM's structure term and a structure-discriminator update
/// (<see cref="SadmTerm"/>). The trainer owns the model and disposes it.
/// </summary>
public sealed partial class EdmTrainer : TrainingRun<TrainerOptions>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "model.safetensors";

    private static readonly string[] Values = ["loss"];

    private readonly INoiseNet _net;
    private readonly Adam _adam;
    private readonly Generator _dataGen;
    private readonly Generator _noiseGen;
    private readonly LrSchedule _schedule;
    private readonly SadmTerm? _sadm;
    private ReplayedLoss? _replay;
    private bool _warm;
    private float _lr;

    /// <summary>Starts a run at step 0 with the model's current weights (which also start the EMA).</summary>
    public EdmTrainer(Module model, IDataSource data, TrainerOptions options, string? outDir = null)
        : base(options, Checked(model, data, options, outDir), outDir, CheckpointFile)
    {
        _net = (INoiseNet)model;
        Model = model;
        Data = data;
        Edm = new Edm(options.SigmaData, options.PMean, options.PStd);
        _adam = new Adam(model.Parameters(), options.Lr, 0.9f, 0.999f, 1e-8f);
        _schedule = LrSchedule.Constant(options.Lr, options.WarmupSteps);
        State.Add(new ModulePart(CheckpointKeys.Weights, model));
        State.Add(new AdamPart(CheckpointKeys.Adam, _adam, model));
        (_dataGen, _noiseGen) = TrainOn(data);
        State.Add(new MetadataPart(SamplingMetadata, c => SamplingDefaults = SamplerDefaults.Of(c.Metadata)));
        if (options.Sadm is { } sadm) _sadm = new SadmTerm(sadm, options.Seed, _net, Edm, _noiseGen, State, Device);
        model.Train();
    }

    private static Module Checked(Module model, IDataSource data, TrainerOptions options, string? outDir)
    {
        var net = model as INoiseNet ?? throw new ArgumentException($"EdmTrainer: {model.GetType().Name} is not an INoiseNet");
        // Checkpoints need the model's kind and config: fail now rather than at the first save.
        if (outDir != null) ModelFactory.Describe(model);
        if (net.SampleShape != data.SampleShape)
            throw new ArgumentException($"EdmTrainer: model sample shape {net.SampleShape} does not match data {data.Name} {data.SampleShape}");
        if (net.NumClasses > 0 && data.NumClasses != net.NumClasses)
            throw new ArgumentException($"EdmTrainer: model has {net.NumClasses} classes, data {data.Name} has {data.NumClasses}");
        bool points = net.SampleShape == new Shape(2), images = net.SampleShape.Rank == 3;
        if (options.PreviewSamples > 0 && !points && !images)
            throw new ArgumentException($"EdmTrainer: previews draw 2D points or images, not samples of shape {net.SampleShape}");
        return model;
    }

    /// <summary>The network being trained (raw weights).</summary>
    public Module Model { get; }

    /// <summary>The training data.</summary>
    public IDataSource Data { get; }

    /// <summary>The EDM schedule built from the options.</summary>
    public Edm Edm { get; }

    /// <summary>
    /// The default sampler the checkpoints record (`dk set-sampler`); a resumed run keeps the one its checkpoint
    /// recorded, so continuing training does not reset how `dk sample` and `dk eval` draw from the model.
    /// </summary>
    public SamplerDefaults? SamplingDefaults { get; set; }

    /// <summary>
    /// Replays each step's forward and backward from a graph captured at the second step of this process
    /// (<see cref="IGraphCapture"/>: a CUDA graph on the GPU backend) instead of launching their kernels one by one:
    /// the same values bit for bit, one host call per step for the hundreds of launches, and the loss and the gradient
    /// norm read in one wait. Plain EDM training in one process, on a backend that captures.
    /// </summary>
    public bool CaptureGraph
    {
        get => _replay != null;
        set
        {
            if (value == CaptureGraph) return;
            if (!value)
            {
                _replay!.Dispose();
                _replay = null;
                return;
            }
            if (Device.Backend is not IGraphCapture capture)
                throw new ArgumentException($"--graph: the {Device.Backend.Name} backend cannot capture a step (use a GPU device: cuda, opencl or cpu-emulator)");
            if (_sadm != null) throw new ArgumentException("--graph: a SADM step is not captured (remove --graph or --sadm)");
            if (!Shard.Whole) throw new ArgumentException("--graph: a data-parallel step is not captured (it exchanges gradients between processes)");
            if (_adam.Arena == null) throw new ArgumentException("--graph: the model's parameters do not share one arena, which the replayed update needs");
            _replay = new ReplayedLoss(capture, inputs => Edm.Loss(_net, inputs[0]!, inputs[1]!, inputs[2]!, inputs[3]));
        }
    }

    /// <summary>The kernel launches each replayed step repeats from its graph (0 until the capture).</summary>
    internal long ReplayedLaunches => _replay?.KernelLaunches ?? 0;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => _sadm != null ? SadmTerm.ValueNames : Values;

    /// <inheritdoc/>
    protected override string Activity => "training";

    /// <inheritdoc/>
    protected override string SkipUnit => "step";

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, double? Value)> LogValues() =>
        _sadm == null ? [("lr", RunLoop.Shortest(_lr))] : [("lr", RunLoop.Shortest(_lr)), ("lambda", _sadm.Lambda)];

    /// <summary>One optimiser step; its loss (NaN when the step was skipped).</summary>
    protected override double[] Iterate(RunUpdate update)
    {
        using var scope = Tensor.Scope();
        // The whole batch is drawn on every rank (the streams stay rank-independent); each computes on its rows.
        var batch = Data.Batch(Step, Options.BatchSize, _dataGen, Device);
        var x = Shard.RowsOf(batch.X);
        var sigma = Shard.RowsOf(Edm.SampleSigma(Options.BatchSize, _noiseGen, Device));
        var noise = Shard.Normal(_noiseGen, _net.SampleShape, Device);
        var labels = _net.NumClasses > 0 ? Shard.RowsOf(DropLabels(batch.Labels!)) : null;
        _lr = _schedule.At(Step);
        _adam.Lr = _lr;
        if (_replay != null && _warm)
        {
            var (replayed, replayApplied) = update.MinimiseReplayed(null, _replay.Run([x, sigma, noise, labels], _adam), _adam);
            if (replayApplied) UpdateEma();
            return [replayApplied ? replayed : double.NaN];
        }
        var loss = Edm.Loss(_net, x, sigma, noise, labels);
        if (_sadm != null) return _sadm.Step(update, Step, x, labels, loss, _adam, UpdateEma, Shard);
        var (value, applied) = update.Minimise(null, loss, _adam);
        if (applied) UpdateEma();
        _adam.ZeroGrad();
        _warm = true;
        return [applied ? value : double.NaN];
    }

    /// <summary>Replaces each label by −1 with probability <see cref="TrainerOptions.LabelDropout"/>, drawn from the noise stream.</summary>
    private Tensor DropLabels(Tensor labels)
    {
        if (Options.LabelDropout == 0) return labels;
        var u = _noiseGen.Uniform(labels.Shape, Device.Cpu).ToArray();
        var values = labels.ToArray();
        for (int i = 0; i < values.Length; i++)
            if (u[i] < Options.LabelDropout) values[i] = -1;
        return Tensor.FromSpan(values, labels.Shape, Device);
    }

    /// <summary>
    /// Samples the EMA weights (Heun, 18 levels, a fixed seed) and writes them to <paramref name="path"/>: 2D
    /// points as a scatter plot over a reference batch of the data, images as a PNG grid.
    /// </summary>
    public override void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        var samples = WithEmaWeights(() => DiffusionSampler.Generate(_net, Edm, Options.PreviewSamples, new SamplerOptions(Seed: PreviewSeed), device: Device).Samples);
        var reference = samples.Rank == 2 ? Data.Batch(0, 20_000, new Generator(PreviewSeed), Device.Cpu).X.ToArray() : null;
        SavePreview(path, samples, reference: reference);
    }

    /// <inheritdoc/>
    protected override void DisposeNetworks()
    {
        _replay?.Dispose();
        Model.Dispose();
        _sadm?.Dispose();
    }
}
