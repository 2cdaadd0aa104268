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
public sealed partial class DiffInstructDistiller : TrainingRun<DiffInstructOptions>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "student.safetensors";

    /// <summary>Metadata value of <see cref="CheckpointKeys.Method"/> in Diff-Instruct checkpoints.</summary>
    public const string Method = "diff-instruct";

    private static readonly string[] Values = ["aux_loss", "score_gap"];

    private readonly INoiseNet _auxNet;
    private readonly Adam _generatorAdam;
    private readonly Adam _auxiliaryAdam;
    private readonly Generator _rng;
    private readonly Edm _sigmas;

    /// <summary>Starts a run at iteration 0 from the networks' current weights (which also start the EMA).</summary>
    public DiffInstructDistiller(FrozenTeacher teacher, IGenerator generator, Module auxiliary, DiffInstructOptions options, string? outDir = null)
        : base(options, Checked(teacher, generator, auxiliary, options, outDir), outDir, CheckpointFile)
    {
        _auxNet = (INoiseNet)auxiliary;
        Teacher = teacher;
        Generator = generator;
        Auxiliary = auxiliary;
        _sigmas = new Edm(teacher.Edm.SigmaData, options.PMean, options.PStd);
        _generatorAdam = new Adam(generator.Module.Parameters(), options.GeneratorLr, options.Beta1, options.Beta2, options.Eps);
        _auxiliaryAdam = new Adam(auxiliary.Parameters(), options.AuxiliaryLr, options.Beta1, options.Beta2, options.Eps);
        _rng = new Generator(options.Seed);
        State.Add(new MetadataPart(RunMetadata));
        State.Add(new ModulePart(CheckpointKeys.Generator, generator.Module));
        State.Add(new AdamPart(CheckpointKeys.GeneratorAdam, _generatorAdam, generator.Module));
        State.Add(new ModulePart(CheckpointKeys.Auxiliary, auxiliary));
        State.Add(new AdamPart(CheckpointKeys.AuxiliaryAdam, _auxiliaryAdam, auxiliary));
        State.Add(new RngPart(CheckpointKeys.Rng, _rng));
        // Dropout off everywhere: the pseudo-gradient compares two deterministic denoisers.
        generator.Module.Eval();
        auxiliary.Eval();
    }

    private static Module Checked(FrozenTeacher teacher, IGenerator generator, Module auxiliary, DiffInstructOptions options, string? outDir)
    {
        var auxNet = auxiliary as INoiseNet ?? throw new ArgumentException($"DiffInstruct: the auxiliary network {auxiliary.GetType().Name} is not an INoiseNet");
        var shape = teacher.Net.SampleShape;
        if (generator.SampleShape != shape || auxNet.SampleShape != shape)
            throw new ArgumentException($"DiffInstruct: teacher samples {shape}, generator {generator.SampleShape} and auxiliary {auxNet.SampleShape} must agree");
        if (generator.NumClasses != teacher.Net.NumClasses || auxNet.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"DiffInstruct: teacher ({teacher.Net.NumClasses}), generator ({generator.NumClasses}) and auxiliary ({auxNet.NumClasses}) must have the same number of classes");
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
        return generator.Module;
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

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => Values;

    /// <inheritdoc/>
    protected override string Activity => "distillation";

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, double? Value)> LogValues() =>
        [("lr_generator", RunLoop.Shortest(Options.GeneratorLr)), ("lr_auxiliary", RunLoop.Shortest(Options.AuxiliaryLr))];

    /// <summary>One auxiliary update, one generator update and the EMA; returns the auxiliary loss and the score gap.</summary>
    protected override double[] Iterate(RunUpdate update)
    {
        double auxLoss, gap;
        using (Tensor.Scope())
        {
            // Each draw covers the whole batch on every rank (streams independent of the world size); a rank computes on its rows.
            var (zs, ls) = DrawLatents(Generator, _rng);
            var (z, labels) = (Shard.RowsOf(zs), Shard.Rows(ls));
            Tensor xg;
            using (Tensor.NoGrad()) xg = Generator.Generate(z, labels);
            var sigma = Shard.RowsOf(_sigmas.SampleSigma(Options.BatchSize, _rng, Device));
            var noise = Shard.Normal(_rng, Generator.SampleShape, Device);
            auxLoss = update.Minimise("auxiliary", RealFakeDenoisers.AuxiliaryLoss(Teacher, _auxNet, xg, sigma, noise, labels), _auxiliaryAdam).Loss;
            _auxiliaryAdam.ZeroGrad();
        }
        using (Tensor.Scope())
        {
            var (zs, ls) = DrawLatents(Generator, _rng);
            var (z, labels) = (Shard.RowsOf(zs), Shard.Rows(ls));
            var sigma = Shard.RowsOf(_sigmas.SampleSigma(Options.BatchSize, _rng, Device));
            var noise = Shard.Normal(_rng, Generator.SampleShape, Device);
            gap = update.Average(DiffInstructGradient.Backward(Generator, Teacher, _auxNet, z, labels, sigma, noise));
            if (update.Finite("generator", "score gap", gap) && update.Apply(_generatorAdam, "generator")) UpdateEma();
            _generatorAdam.ZeroGrad();
        }
        return [auxLoss, gap];
    }

    /// <summary>
    /// <paramref name="n"/> samples of the generator's EMA weights from latents drawn by Generator(<paramref name="seed"/>)
    /// (conditional generators get labels i mod classes), owned by the current scope. For a one-step student these
    /// are the samples `dk sample --seed` draws from its checkpoint. The raw weights are restored afterwards.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed) => SampleEma(Generator, n, seed);

    /// <summary>
    /// Writes <see cref="RunOptions.PreviewSamples"/> EMA samples to <paramref name="path"/>: 2D points as a scatter
    /// plot (over the teacher's toy density when it was trained on one), images as a PNG grid.
    /// </summary>
    public override void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        SavePreview(path, SampleEma(Math.Max(1, Options.PreviewSamples), PreviewSeed), Teacher.DataSpec);
    }

    /// <summary>Releases all three networks.</summary>
    protected override void DisposeNetworks()
    {
        Generator.Module.Dispose();
        Auxiliary.Dispose();
        Teacher.Dispose();
    }
}
