using System.Globalization;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.DiffInstruct;

/// <summary>
/// Diff-Instruct (data-free distillation by Integral KL). Each iteration first fits the auxiliary denoiser D_φ to
/// the generator's current samples (EDM loss on SG(G(z)), σ log-normal), then moves the generator along
/// <see cref="DiffInstructGradient"/> (frozen teacher, no graph through either denoiser), then updates the
/// generator's EMA. Both optimisers are Adam(β₁ = 0, β₂ = 0.999) by default; all networks run with dropout off.
/// Works with any <see cref="IGenerator"/>; <see cref="FromTeacher"/> builds the usual one-step student.
/// With an output directory it writes <see cref="CheckpointFile"/> (the EMA generator under its own names with
/// sampling metadata, so it loads and samples directly, plus everything a bit-exact resume needs), a JSONL log
/// and previews. The distiller owns the teacher, the generator and the auxiliary network and disposes them.
/// </summary>
public sealed partial class DiffInstructDistiller : IDistiller, ILoopedRun
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "student.safetensors";

    /// <summary>The JSONL log written in the output directory.</summary>
    public const string LogFile = RunLoop.LogFile;

    private readonly INoiseNet _auxNet;
    private readonly Adam _generatorAdam;
    private readonly Adam _auxiliaryAdam;
    private readonly Ema _ema;
    private readonly Generator _rng;
    private readonly Edm _sigmas;
    private readonly Device _device;
    private int _consecutiveSkips;

    /// <summary>Starts a run at iteration 0 from the networks' current weights (which also start the EMA).</summary>
    public DiffInstructDistiller(FrozenTeacher teacher, IGenerator generator, Module auxiliary, DiffInstructOptions options, string? outDir = null)
        : this(teacher, generator, auxiliary, options, outDir, step: 0, rngOffset: 0)
    {
    }

    private DiffInstructDistiller(FrozenTeacher teacher, IGenerator generator, Module auxiliary, DiffInstructOptions options, string? outDir, long step, ulong rngOffset)
    {
        options.Validate();
        _auxNet = auxiliary as INoiseNet ?? throw new ArgumentException($"DiffInstruct: the auxiliary network {auxiliary.GetType().Name} is not an INoiseNet");
        var shape = teacher.Net.SampleShape;
        if (generator.SampleShape != shape || _auxNet.SampleShape != shape)
            throw new ArgumentException($"DiffInstruct: teacher samples {shape}, generator {generator.SampleShape} and auxiliary {_auxNet.SampleShape} must agree");
        if (generator.NumClasses != teacher.Net.NumClasses || _auxNet.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"DiffInstruct: teacher ({teacher.Net.NumClasses}), generator ({generator.NumClasses}) and auxiliary ({_auxNet.NumClasses}) must have the same number of classes");
        if (ReferenceEquals(generator.Module, auxiliary) || ReferenceEquals(generator.Module, teacher.Net) || ReferenceEquals(auxiliary, teacher.Net))
            throw new ArgumentException("DiffInstruct: teacher, generator and auxiliary network must be three separate networks (copy the teacher for the others)");
        // Checkpoints need both networks' kinds and configs: fail now rather than at the first save.
        if (outDir != null)
        {
            ModelFactory.Describe(generator.Module);
            ModelFactory.Describe(auxiliary);
        }
        bool points = shape == new Shape(2), images = shape.Rank == 3;
        if (options.PreviewSamples > 0 && !points && !images)
            throw new ArgumentException($"DiffInstruct: previews draw 2D points or images, not samples of shape {shape}");
        Teacher = teacher;
        Generator = generator;
        Auxiliary = auxiliary;
        Options = options;
        OutDir = outDir;
        Step = step;
        _device = generator.Module.Parameters().FirstOrDefault()?.Device ?? Device.Cpu;
        _sigmas = new Edm(teacher.Edm.SigmaData, options.PMean, options.PStd);
        _generatorAdam = new Adam(generator.Module.Parameters(), options.GeneratorLr, options.Beta1, options.Beta2, options.Eps);
        _auxiliaryAdam = new Adam(auxiliary.Parameters(), options.AuxiliaryLr, options.Beta1, options.Beta2, options.Eps);
        _ema = new Ema(generator.Module);
        _rng = new Generator(options.Seed, rngOffset);
        // Dropout off everywhere: the pseudo-gradient compares two deterministic denoisers.
        generator.Module.Eval();
        auxiliary.Eval();
        if (outDir != null) Directory.CreateDirectory(outDir);
    }

    /// <summary>
    /// The usual distillation: generator = one-step D_G(σ_init·z; σ_init) and auxiliary denoiser, both initialised
    /// as copies of the teacher.
    /// </summary>
    public static DiffInstructDistiller FromTeacher(FrozenTeacher teacher, DiffInstructOptions options, double sigmaInit = OneStepGenerator.DefaultSigmaInit, string? outDir = null)
    {
        var g = teacher.TrainableCopy();
        Module? aux = null;
        try
        {
            var generator = new OneStepGenerator(g, teacher.Edm, sigmaInit);
            aux = teacher.TrainableCopy();
            return new DiffInstructDistiller(teacher, generator, aux, options, outDir);
        }
        catch
        {
            g.Dispose();
            aux?.Dispose();
            throw;
        }
    }

    /// <summary>The frozen teacher D_T.</summary>
    public FrozenTeacher Teacher { get; }

    /// <summary>The generator being trained (raw weights).</summary>
    public IGenerator Generator { get; }

    /// <summary>The auxiliary denoiser D_φ, tracking the generator's distribution.</summary>
    public Module Auxiliary { get; }

    /// <summary>The run's settings.</summary>
    public DiffInstructOptions Options { get; }

    /// <summary>Where checkpoints, log and previews go (null: nowhere).</summary>
    public string? OutDir { get; }

    /// <inheritdoc/>
    public long Step { get; private set; }

    /// <inheritdoc/>
    public long TotalSteps => Options.Steps;

    /// <inheritdoc/>
    public int BatchSize => Options.BatchSize;

    /// <summary>Updates (auxiliary or generator) skipped so far for a non-finite loss, score gap or gradient.</summary>
    public long Skipped { get; private set; }

    /// <summary>The generator's EMA weights (what checkpoints store under the generator's names).</summary>
    public IReadOnlyDictionary<string, Tensor> EmaWeights => _ema.Shadow;

    /// <inheritdoc/>
    public Action<string>? OnWarning { get; set; }

    /// <summary>The checkpoint path in <see cref="OutDir"/>, or null.</summary>
    public string? CheckpointPath => OutDir == null ? null : Path.Combine(OutDir, CheckpointFile);

    /// <inheritdoc/>
    public TrainResult Run(CancellationToken cancel = default, Action<DistillProgress>? progress = null) =>
        RunLoop.Run(this, new RunSchedule(Options.Steps, Options.BatchSize, Options.LogEvery, Options.CheckpointEvery, Options.PreviewSamples), cancel,
            log =>
            {
                var (auxLoss, gap) = Iterate(log);
                Step++;
                return [auxLoss, gap];
            },
            progress == null ? null : (v, samplesPerSecond, elapsed) => progress(new DistillProgress(Step, Options.Steps, v[0], v[1], samplesPerSecond, elapsed, Skipped)),
            (means, samplesPerSecond, elapsed) => new (string, double?)[]
            {
                ("aux_loss", means[0]), ("score_gap", means[1]),
                ("lr_generator", RunLoop.Shortest(Options.GeneratorLr)), ("lr_auxiliary", RunLoop.Shortest(Options.AuxiliaryLr)),
            }.Concat(RunLoop.Tail(this, samplesPerSecond, elapsed)));

    /// <summary>One auxiliary update, one generator update and the EMA; returns the auxiliary loss and the score gap.</summary>
    private (double AuxLoss, double Gap) Iterate(RunLog? log)
    {
        var problems = new List<string>();
        double auxLoss, gap;
        using (Tensor.Scope())
        {
            var (z, labels) = DrawLatents();
            Tensor xg;
            using (Tensor.NoGrad()) xg = Generator.Generate(z, labels);
            var sigma = _sigmas.SampleSigma(Options.BatchSize, _rng, _device);
            var noise = _rng.Normal(xg.Shape, _device);
            var loss = RealFakeDenoisers.AuxiliaryLoss(Teacher, _auxNet, xg, sigma, noise, labels);
            auxLoss = loss.Item();
            if (!double.IsFinite(auxLoss)) problems.Add($"auxiliary: non-finite loss ({Invariant(auxLoss)})");
            else
            {
                loss.Backward();
                if (Update(_auxiliaryAdam) is { } p) problems.Add("auxiliary: " + p);
            }
            _auxiliaryAdam.ZeroGrad();
        }
        bool generatorUpdated = false;
        using (Tensor.Scope())
        {
            var (z, labels) = DrawLatents();
            var sigma = _sigmas.SampleSigma(Options.BatchSize, _rng, _device);
            var noise = _rng.Normal([Options.BatchSize, .. Generator.SampleShape], _device);
            gap = DiffInstructGradient.Backward(Generator, Teacher, _auxNet, z, labels, sigma, noise);
            if (!double.IsFinite(gap)) problems.Add($"generator: non-finite score gap ({Invariant(gap)})");
            else if (Update(_generatorAdam) is { } p) problems.Add("generator: " + p);
            else generatorUpdated = true;
            _generatorAdam.ZeroGrad();
        }
        if (generatorUpdated)
        {
            long seen = (Step + 1) * Options.BatchSize;
            _ema.Update(Ema.HalfLifeBeta(Options.BatchSize, Options.EmaHalfLifeSamples, seen, Options.EmaRampRatio));
        }
        if (problems.Count == 0)
        {
            _consecutiveSkips = 0;
            return (auxLoss, gap);
        }
        Skipped += problems.Count;
        _consecutiveSkips++;
        string message = $"step {Step + 1}: {string.Join("; ", problems)}; update skipped";
        log?.Warning(Step + 1, message);
        OnWarning?.Invoke(message);
        if (_consecutiveSkips > Options.MaxConsecutiveSkips)
            throw new TrainingDivergedException($"distillation diverged: {_consecutiveSkips} consecutive iterations had a non-finite loss, score gap or gradient (last at step {Step + 1}: {string.Join("; ", problems)}); lower the learning rates or resume from the last checkpoint");
        return (auxLoss, gap);
    }

    /// <summary>Clips (when configured) and applies the accumulated gradients; returns the problem when they are not finite.</summary>
    private string? Update(Adam adam)
    {
        float norm = Options.GradClip is { } clip ? GradClip.ClipGlobalNorm(adam.Parameters, clip) : GradClip.GlobalNorm(adam.Parameters);
        if (!float.IsFinite(norm)) return $"non-finite gradient norm ({Invariant(norm)})";
        adam.Step();
        return null;
    }

    /// <summary>Latents [B, …] and, for conditional generators, uniformly drawn class ids.</summary>
    private (Tensor Z, Tensor? Labels) DrawLatents()
    {
        var z = _rng.Normal([Options.BatchSize, .. Generator.LatentShape], _device);
        if (Generator.NumClasses == 0) return (z, null);
        var u = _rng.Uniform([Options.BatchSize], Device.Cpu).ToArray();
        var labels = u.Select(v => (float)Math.Min((int)(v * Generator.NumClasses), Generator.NumClasses - 1)).ToArray();
        return (z, Tensor.FromSpan(labels, [Options.BatchSize], _device));
    }

    private static string Invariant(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>Releases the optimiser states, the EMA and all three networks.</summary>
    public void Dispose()
    {
        _generatorAdam.Dispose();
        _auxiliaryAdam.Dispose();
        _ema.Dispose();
        Generator.Module.Dispose();
        Auxiliary.Dispose();
        Teacher.Dispose();
    }
}
