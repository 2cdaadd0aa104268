using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Distributed;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The run framework: a run kind (EDM teacher, GAN, a distillation method) supplies one iteration and registers
/// the named parts of its state (<see cref="State"/>); the framework does the rest once for all kinds: the loop
/// with cancel-then-save, the update policy (clip, non-finite checks, skip counting, warnings, divergence), the
/// EMA of the sampled network and previews drawn from it, interval logging, the quality curve of the network it would
/// release (<see cref="RunOptions.QualityCurve"/>), checkpoints of the whole state and bit-exact resume (<see cref="OpenForResume"/>, <see cref="Restore{TRun}"/>). Given a process group
/// (<see cref="Distribute"/>) the same run is data-parallel: the weights start as rank 0's, each rank iterates on its
/// <see cref="Shard"/> of every batch, <see cref="RunUpdate"/> averages gradients and values over the ranks, and only
/// rank 0 writes files.
/// </summary>
public abstract partial class TrainingRun<TOptions> : ITrainingRun where TOptions : RunOptions
{
    /// <summary>The JSONL log written in the output directory.</summary>
    public const string LogFile = RunLoop.LogFile;

    /// <summary>Seed of preview draws, apart from every run stream.</summary>
    protected const ulong PreviewSeed = 0x5EED;

    // A fixed odd constant keys the noise stream apart from the data stream of the same seed.
    private const ulong NoiseKey = 0x9E3779B97F4A7C15UL;

    private readonly string _checkpointFile;
    private readonly string? _outDir;
    private int _consecutiveSkips;
    private CancellationToken _cancel;
    private CancellationTokenSource? _agreedCancel;
    private long _loggedAt;
    private RunUpdate? _update;
    private bool _emaUpdated;

    /// <summary>
    /// Starts at iteration 0 with an EMA of <paramref name="sampled"/>'s current weights; the state holds the step
    /// and skip counters and the options. A checkpoint is written as <paramref name="checkpointFile"/> in <paramref name="outDir"/>.
    /// </summary>
    protected TrainingRun(TOptions options, Module sampled, string? outDir, string checkpointFile)
    {
        options.Validate();
        Options = options;
        _outDir = outDir;
        Shard = new BatchShard(0, 1, options.BatchSize);
        _checkpointFile = checkpointFile;
        Device = sampled.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
        State = new RunState(sampled);
        State.Add(new MetadataPart(Counters, LoadCounters));
        State.Add(new MetadataPart(() => [new(CheckpointKeys.Options, Options.ToJson())]));
        State.Add(new MetadataPart(() => RunProvenance.Stamp(this), checkpoint => RunProvenance.Continue(this, checkpoint.Metadata)));
        if (outDir != null) Directory.CreateDirectory(outDir);
    }

    /// <summary>The run's settings.</summary>
    public TOptions Options { get; }

    /// <inheritdoc/>
    public string? OutDir => Group.Rank == 0 ? _outDir : null;

    /// <summary>The processes this run spans (one by default).</summary>
    public IProcessGroup Group { get; private set; } = SingleProcessGroup.Instance;

    /// <summary>This rank's rows of every batch (all of them in one process).</summary>
    protected BatchShard Shard { get; private set; }

    /// <inheritdoc/>
    public long Step { get; private set; }

    /// <inheritdoc/>
    public long TotalSteps => Options.Steps;

    /// <inheritdoc/>
    public int BatchSize => Options.BatchSize;

    /// <inheritdoc/>
    public long Skipped { get; private set; }

    /// <inheritdoc/>
    public Action<string>? OnWarning { get; set; }

    /// <inheritdoc/>
    public string? CheckpointPath => OutDir == null ? null : Path.Combine(OutDir, _checkpointFile);

    /// <summary>The EMA of the sampled network's weights (what checkpoints store under its own names).</summary>
    public IReadOnlyDictionary<string, Tensor> EmaWeights => State.Ema.Shadow;

    /// <summary>Everything a checkpoint holds, as named parts.</summary>
    protected internal RunState State { get; }

    /// <summary>Where the sampled network lives.</summary>
    protected Device Device { get; }

    /// <summary>Names of the values <see cref="Iterate"/> returns, as progress and log lines show them.</summary>
    protected abstract IReadOnlyList<string> ValueNames { get; }

    /// <summary>What diverged, in the message that stops the run ("training", "distillation").</summary>
    protected abstract string Activity { get; }

    /// <summary>What a warning says was skipped: "update", or "step" where an iteration is one update.</summary>
    protected virtual string SkipUnit => "update";

    /// <summary>
    /// One iteration at <see cref="Step"/> (the step counter advances after it): its updates go through
    /// <paramref name="update"/>; returns the values named by <see cref="ValueNames"/> (non-finite values stay out
    /// of the log's means).
    /// </summary>
    protected abstract double[] Iterate(RunUpdate update);

    /// <summary>Values a log line adds after the interval's means (e.g. the learning rate).</summary>
    protected virtual IEnumerable<(string Name, double? Value)> LogValues() => [];

    /// <inheritdoc/>
    public abstract void WritePreview(string path);

    /// <inheritdoc/>
    public void SaveCheckpoint(string path) => State.Save(path);

    /// <inheritdoc/>
    public void Distribute(IProcessGroup group)
    {
        Shard = new BatchShard(group.Rank, group.WorldSize, Options.BatchSize);
        Group = group.WorldSize == 1 ? group : new TimedProcessGroup(group);
    }

    /// <inheritdoc/>
    public TrainResult Run(CancellationToken cancel = default, Action<RunProgress>? progress = null)
    {
        if (Group.WorldSize == 1) return Loop(cancel, progress);
        // Every rank stops at the same step: a cancel seen by any rank is agreed on after each iteration.
        using var agreed = new CancellationTokenSource();
        (_cancel, _agreedCancel) = (cancel, agreed);
        try
        {
            var replicated = State.Replicated();
            Group.Replicate(replicated);
            // The log's collective time starts with the first iteration, not with the weights' broadcast.
            ((TimedProcessGroup)Group).TakeMilliseconds();
            _loggedAt = Step;
            var result = Loop(agreed.Token, progress);
            Group.CheckReplicas(replicated, $"after step {Step}");
            return result;
        }
        finally
        {
            (_cancel, _agreedCancel) = (default, null);
        }
    }

    private TrainResult Loop(CancellationToken cancel, Action<RunProgress>? progress) =>
        RunLoop.Run(this, new RunSchedule(Options.Steps, Options.BatchSize, Options.LogEvery, Options.CheckpointEvery, Options.PreviewSamples, Options.QualityCurve?.Every ?? 0), cancel,
            Iteration,
            progress == null ? null : (values, samplesPerSecond, elapsed) =>
                progress(new RunProgress(Step, Options.Steps, Options.BatchSize, ValueNames, values, samplesPerSecond, elapsed, Skipped)),
            (means, samplesPerSecond, elapsed) => ValueNames.Select((name, i) => (name, means[i])).Concat(LogValues()).Concat(Transport()).Concat(RunLoop.Tail(this, samplesPerSecond, elapsed)),
            StartCurve() ? Measure : null);

    /// <summary>
    /// With several ranks, the wall time per iteration spent in the group's collectives since the last log line
    /// (gradient and value all-reduces, the cancel agreement; waiting for a slower rank counts too).
    /// </summary>
    private IEnumerable<(string Name, double? Value)> Transport()
    {
        if (Group is not TimedProcessGroup timed) return [];
        long steps = Math.Max(1, Step - _loggedAt);
        _loggedAt = Step;
        return [("allreduce_ms", Math.Round(timed.TakeMilliseconds() / steps, 3))];
    }

    private double[] Iteration(RunLog? log)
    {
        var update = new RunUpdate(Options.GradClip, Group, (State.Ema, EmaBeta()));
        _update = update;
        _emaUpdated = false;
        double[] values;
        try
        {
            values = Iterate(update);
        }
        finally
        {
            _update = null;
        }
        // The EMA moved inside an optimiser step stands for the UpdateEma call a run kind makes after it.
        if (update.EmaUpdated && !_emaUpdated)
            throw new InvalidOperationException($"{GetType().Name}: the sampled network's update was applied without UpdateEma after it");
        if (update.Skipped) Skip(update.Problems, log);
        else _consecutiveSkips = 0;
        Step++;
        Iterated();
        if (_agreedCancel != null)
        {
            Span<float> stop = [_cancel.IsCancellationRequested ? 1f : 0f];
            Group.AllReduceSum(stop);
            if (stop[0] > 0) _agreedCancel.Cancel();
        }
        return values;
    }

    /// <summary>Called after each iteration once <see cref="Step"/> counts it (e.g. to save a milestone of the state).</summary>
    protected virtual void Iterated()
    {
    }

    private void Skip(IReadOnlyList<string> problems, RunLog? log)
    {
        Skipped += problems.Count;
        _consecutiveSkips++;
        string what = string.Join("; ", problems);
        string message = $"step {Step + 1}: {what}; {SkipUnit} skipped";
        log?.Warning(Step + 1, message);
        OnWarning?.Invoke(message);
        if (_consecutiveSkips > Options.MaxConsecutiveSkips)
            throw new TrainingDivergedException($"{Activity} diverged: {_consecutiveSkips} consecutive iterations had a non-finite value (last at step {Step + 1}: {what}); lower the learning rate or resume from the last checkpoint");
    }

    /// <summary>
    /// Registers training on <paramref name="data"/> (its spec and crop in checkpoints, resumes only on the same
    /// data) and returns the run's data stream and its noise stream (seeded apart), both continued by a resume.
    /// </summary>
    protected (Generator Data, Generator Noise) TrainOn(IDataSource data)
    {
        var dataStream = new Generator(Options.Seed);
        var noiseStream = new Generator(Options.Seed ^ NoiseKey);
        State.Add(new DataPart(data));
        State.Add(new RngPart(CheckpointKeys.DataRng, dataStream));
        State.Add(new RngPart(CheckpointKeys.NoiseRng, noiseStream));
        return (dataStream, noiseStream);
    }

    /// <summary>
    /// Moves the EMA towards the sampled network after this iteration's update of it (the half-life rule, with its
    /// ramp). When that update already moved it, in the optimiser's one pass over the arena the EMA follows
    /// (<see cref="RunUpdate.Apply"/>), there is nothing left to do.
    /// </summary>
    protected void UpdateEma()
    {
        _emaUpdated = true;
        if (_update is { EmaUpdated: true }) return;
        State.Ema.Update(EmaBeta());
    }

    /// <summary>This iteration's EMA β.</summary>
    private float EmaBeta()
    {
        long seen = (Step + 1) * Options.BatchSize;
        return Options.EmaHalfLifeSamples is { } h ? Ema.HalfLifeBeta(Options.BatchSize, h, seen, Options.EmaRampRatio) : 0f;
    }

    private IEnumerable<KeyValuePair<string, string>> Counters() =>
    [
        new(CheckpointKeys.Step, Step.ToString(CultureInfo.InvariantCulture)),
        new(CheckpointKeys.Skipped, Skipped.ToString(CultureInfo.InvariantCulture)),
        new(CheckpointKeys.ConsecutiveSkips, _consecutiveSkips.ToString(CultureInfo.InvariantCulture)),
    ];

    private void LoadCounters(CheckpointReader checkpoint)
    {
        Step = checkpoint.Count(CheckpointKeys.Step);
        Skipped = checkpoint.Count(CheckpointKeys.Skipped);
        _consecutiveSkips = (int)checkpoint.Count(CheckpointKeys.ConsecutiveSkips);
    }

    /// <summary>Releases the EMA, the optimisers and the run's networks.</summary>
    public void Dispose()
    {
        State.Dispose();
        DisposeNetworks();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the networks the run owns.</summary>
    protected abstract void DisposeNetworks();
}
