using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The run framework: a run kind (EDM teacher, GAN, a distillation method) supplies one iteration and registers
/// the named parts of its state (<see cref="State"/>); the framework does the rest once for all kinds: the loop
/// with cancel-then-save, the update policy (clip, non-finite checks, skip counting, warnings, divergence), the
/// EMA of the sampled network and previews drawn from it, interval logging, checkpoints of the whole state and
/// bit-exact resume (<see cref="OpenForResume"/>, <see cref="Restore{TRun}"/>).
/// </summary>
public abstract class TrainingRun<TOptions> : ITrainingRun where TOptions : RunOptions
{
    /// <summary>The JSONL log written in the output directory.</summary>
    public const string LogFile = RunLoop.LogFile;

    /// <summary>Seed of preview draws, apart from every run stream.</summary>
    protected const ulong PreviewSeed = 0x5EED;

    // A fixed odd constant keys the noise stream apart from the data stream of the same seed.
    private const ulong NoiseKey = 0x9E3779B97F4A7C15UL;

    private readonly string _checkpointFile;
    private int _consecutiveSkips;

    /// <summary>
    /// Starts at iteration 0 with an EMA of <paramref name="sampled"/>'s current weights; the state holds the step
    /// and skip counters and the options. A checkpoint is written as <paramref name="checkpointFile"/> in <paramref name="outDir"/>.
    /// </summary>
    protected TrainingRun(TOptions options, Module sampled, string? outDir, string checkpointFile)
    {
        options.Validate();
        Options = options;
        OutDir = outDir;
        _checkpointFile = checkpointFile;
        Device = sampled.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
        State = new RunState(sampled);
        State.Add(new MetadataPart(Counters, LoadCounters));
        State.Add(new MetadataPart(() => [new(CheckpointKeys.Options, Options.ToJson())]));
        if (outDir != null) Directory.CreateDirectory(outDir);
    }

    /// <summary>The run's settings.</summary>
    public TOptions Options { get; }

    /// <inheritdoc/>
    public string? OutDir { get; }

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
    public TrainResult Run(CancellationToken cancel = default, Action<RunProgress>? progress = null) =>
        RunLoop.Run(this, new RunSchedule(Options.Steps, Options.BatchSize, Options.LogEvery, Options.CheckpointEvery, Options.PreviewSamples), cancel,
            Iteration,
            progress == null ? null : (values, samplesPerSecond, elapsed) =>
                progress(new RunProgress(Step, Options.Steps, Options.BatchSize, ValueNames, values, samplesPerSecond, elapsed, Skipped)),
            (means, samplesPerSecond, elapsed) => ValueNames.Select((name, i) => (name, means[i])).Concat(LogValues()).Concat(RunLoop.Tail(this, samplesPerSecond, elapsed)));

    private double[] Iteration(RunLog? log)
    {
        var update = new RunUpdate(Options.GradClip);
        var values = Iterate(update);
        if (update.Skipped) Skip(update.Problems, log);
        else _consecutiveSkips = 0;
        Step++;
        return values;
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

    /// <summary>Moves the EMA towards the sampled network after this iteration's update of it (the half-life rule, with its ramp).</summary>
    protected void UpdateEma()
    {
        long seen = (Step + 1) * Options.BatchSize;
        State.Ema.Update(Options.EmaHalfLifeSamples is { } h ? Ema.HalfLifeBeta(Options.BatchSize, h, seen, Options.EmaRampRatio) : 0f);
    }

    /// <summary>
    /// <paramref name="draw"/> run with the EMA weights in the sampled network (evaluation mode, no graph); its raw
    /// weights and mode are restored afterwards. The result belongs to the current scope.
    /// </summary>
    protected Tensor WithEmaWeights(Func<Tensor> draw)
    {
        var module = State.Sampled;
        bool training = module.Training;
        Tensor result;
        using (Tensor.Scope())
        using (Tensor.NoGrad())
        {
            var raw = module.StateDict().ToDictionary(kv => kv.Key, kv => F.Copy(kv.Value));
            module.LoadStateDict(State.Ema.Shadow);
            module.Eval();
            try
            {
                result = draw().Keep();
            }
            finally
            {
                module.LoadStateDict(raw);
                module.Train(training);
            }
        }
        return result;
    }

    /// <summary>
    /// <paramref name="n"/> samples of <paramref name="generator"/> with the EMA weights, from latents drawn by
    /// Generator(<paramref name="seed"/>) (conditional generators get labels i mod classes): what `dk sample --seed`
    /// draws from the checkpoint. They belong to the current scope.
    /// </summary>
    protected Tensor SampleEma(IGenerator generator, int n, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"{GetType().Name}: sample count {n} must be ≥ 1");
        return WithEmaWeights(() => GeneratorSampler.Generate(generator, n, seed, n, device: Device).Samples);
    }

    /// <summary>
    /// Writes <paramref name="samples"/> as a preview: 2D points as a scatter plot over <paramref name="toySpec"/>'s
    /// density when it names a toy (else over <paramref name="reference"/> points), images as a grid of the first 100.
    /// </summary>
    protected static void SavePreview(string path, Tensor samples, string? toySpec = null, float[]? reference = null)
    {
        if (samples.Rank != 2)
        {
            ImageGrid.Save(path, F.Narrow(samples, 0, 0, Math.Min(samples.Shape[0], 100)));
            return;
        }
        var toy = toySpec != null && ToyDataSource.IsToySpec(toySpec) ? ToyDataSource.FromSpec(toySpec).Toy : null;
        ToyScatterPlot.Save(path, samples.ToArray(), toy == null ? reference : ToyEvaluation.DensitySample(toy), toy?.Modes.Count > 0 ? toy.Modes : null);
    }

    /// <summary>Latents [B, …] from <paramref name="rng"/> and, for a conditional generator, uniformly drawn class ids.</summary>
    protected (Tensor Z, Tensor? Labels) DrawLatents(IGenerator generator, Generator rng)
    {
        int b = Options.BatchSize;
        var z = rng.Normal([b, .. generator.LatentShape], Device);
        if (generator.NumClasses == 0) return (z, null);
        var u = rng.Uniform([b], Device.Cpu).ToArray();
        var labels = u.Select(v => (float)Math.Min((int)(v * generator.NumClasses), generator.NumClasses - 1)).ToArray();
        return (z, Tensor.FromSpan(labels, [b], Device));
    }

    /// <summary>
    /// Opens <paramref name="checkpoint"/> to continue a <paramref name="kind"/> run (written by <paramref name="method"/>
    /// when given): its options, with <paramref name="steps"/> as the new total and what <paramref name="changes"/>
    /// alters where the options allow it on resume.
    /// </summary>
    protected static (CheckpointReader Checkpoint, TOptions Options) OpenForResume(string checkpoint, string kind, string? method,
        Func<string, TOptions> parse, int? steps, Func<TOptions, TOptions>? changes)
    {
        var reader = CheckpointReader.Open(checkpoint, kind);
        if (method != null && reader.Meta(CheckpointKeys.Method) != method)
            throw new ArgumentException($"{checkpoint}: written by '{reader.Meta(CheckpointKeys.Method)}', not by {method}");
        var options = parse(reader.Meta(CheckpointKeys.Options));
        if (steps is { } s) options = (TOptions)((RunOptions)options with { Steps = s });
        if (changes != null)
        {
            var changed = changes(options);
            if (!changed.Equals(options.WithResumable(changed)))
                throw new ArgumentException($"{checkpoint}: on resume only {options.Resumable} may change");
            changed.Validate();
            options = changed;
        }
        long step = reader.Count(CheckpointKeys.Step);
        if (step > options.Steps)
            throw new ArgumentException($"{checkpoint}: the run is already at step {step}, beyond the requested {options.Steps} steps");
        return (reader, options);
    }

    /// <summary>
    /// Loads every part of <paramref name="run"/>'s state from <paramref name="checkpoint"/>; on failure releases it
    /// with <paramref name="release"/> (default: disposes it) and rethrows.
    /// </summary>
    protected static TRun Restore<TRun>(TRun run, CheckpointReader checkpoint, Action<TRun>? release = null) where TRun : TrainingRun<TOptions>
    {
        try
        {
            run.State.Load(checkpoint, run.Device);
            return run;
        }
        catch
        {
            if (release != null) release(run);
            else run.Dispose();
            throw;
        }
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
