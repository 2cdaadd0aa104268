using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// DMD2 (data-free distribution-matching distillation) into a one- or K-step student. Each iteration draws a batch from
/// the student: latents, a step per sample and, for K &gt; 1, its input by backward simulation
/// (<see cref="FewStepStudent.SimulateInputs"/>); the student's estimates x_g there are recorded on every
/// <see cref="Dmd2Options.FakeUpdatesPerGeneratorUpdate"/>-th iteration, which moves the student along the normalised
/// distribution-matching gradient (<see cref="Dmd2Gradient"/>, σ from the middle of the grid)
/// and updates its EMA; every iteration then fits the fake denoiser to SG(x_g) (Diff-Instruct's auxiliary loss, σ from
/// the whole grid). Both optimisers are AdamW; updates are clipped to the options' global norm. With an output
/// directory it writes <see cref="CheckpointFile"/> (the EMA student under its own names with the sampling metadata
/// of its K levels, plus everything a bit-exact resume needs), a JSONL log and previews. The distiller owns the
/// teacher, the student and the fake network and disposes them.
/// </summary>
public sealed partial class Dmd2Distiller : TrainingRun<Dmd2Options>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "student.safetensors";

    /// <summary>Metadata value of <see cref="CheckpointKeys.Method"/> in DMD2 checkpoints.</summary>
    public const string Method = "dmd2";

    private static readonly string[] Values = ["fake_loss", "dm_gap"];
    private static readonly string[] GanValues = ["fake_loss", "dm_gap", "gan_head_loss", "gan_gen_loss"];

    private readonly INoiseNet _fakeNet;
    private readonly AdamW _generatorAdam;
    private readonly AdamW _fakeAdam;
    private readonly Generator _rng;
    private readonly Dmd2Grid _grid;
    private readonly DdilInputs? _ddil;

    /// <summary>
    /// Starts a run at iteration 0 from the networks' current weights (the student's also start the EMA); the
    /// student's levels follow from the options' grid and step count. <paramref name="data"/> is the real data of the
    /// GAN head (<see cref="Dmd2Options.Gan"/>) and of DDIL, and only of them.
    /// With <paramref name="ddil"/> the student's inputs come from DDIL's three sources (<see cref="DdilInputs"/>, which
    /// need <paramref name="data"/>) instead of backward simulation; its β schedule spans the run's steps
    /// (<see cref="RunOptions.Steps"/>) unless it names its own period. That span is the total of the current session: a
    /// resume with the same total continues the uninterrupted run's schedule bit for bit, a resume with a new total
    /// (see <see cref="Resume"/>) places its fractions on the new total from the resume point on.
    /// </summary>
    public Dmd2Distiller(FrozenTeacher teacher, Module student, Module fake, Dmd2Options options, string? outDir = null, IDataSource? data = null,
        DdilOptions? ddil = null)
        : base(options, Checked(teacher, student, fake, options, outDir), outDir, CheckpointFile)
    {
        _fakeNet = (INoiseNet)fake;
        _grid = new Dmd2Grid(options.GridPoints);
        Teacher = teacher;
        Student = new FewStepStudent(student, teacher.Edm, _grid.StudentLevels(options.StudentSteps), options.Threshold);
        Fake = fake;
        _generatorAdam = new AdamW(student.Parameters(), options.GeneratorLr, options.Beta1, options.Beta2, options.Eps, options.WeightDecay);
        _fakeAdam = new AdamW(fake.Parameters(), options.FakeLr, options.Beta1, options.Beta2, options.Eps, options.WeightDecay);
        _rng = new Generator(options.Seed);
        State.Add(new MetadataPart(RunMetadata));
        State.Add(new ModulePart(CheckpointKeys.Generator, student));
        State.Add(new AdamPart(CheckpointKeys.GeneratorAdam, _generatorAdam, student));
        State.Add(new ModulePart(CheckpointKeys.Auxiliary, fake));
        State.Add(new AdamPart(CheckpointKeys.AuxiliaryAdam, _fakeAdam, fake));
        State.Add(new RngPart(CheckpointKeys.Rng, _rng));
        // Dropout off everywhere: the gradient compares two deterministic denoisers at the student's deterministic output.
        student.Eval();
        fake.Eval();
        AddData(data, ddil != null);
        if (ddil != null)
        {
            _ddil = new DdilInputs(ddil, this, teacher.Net.SampleShape, teacher.Net.NumClasses, options.Seed, basePeriod: Math.Max(1, options.Steps));
            foreach (var part in _ddil.Parts) State.Add(part);
        }
    }

    private static Module Checked(FrozenTeacher teacher, Module student, Module fake, Dmd2Options options, string? outDir)
    {
        options.Validate();
        var studentNet = student as INoiseNet ?? throw new ArgumentException($"DMD2: the student network {student.GetType().Name} is not an INoiseNet");
        var fakeNet = fake as INoiseNet ?? throw new ArgumentException($"DMD2: the fake network {fake.GetType().Name} is not an INoiseNet");
        var shape = teacher.Net.SampleShape;
        if (studentNet.SampleShape != shape || fakeNet.SampleShape != shape)
            throw new ArgumentException($"DMD2: teacher samples {shape}, student {studentNet.SampleShape} and fake network {fakeNet.SampleShape} must agree");
        if (studentNet.NumClasses != teacher.Net.NumClasses || fakeNet.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"DMD2: teacher ({teacher.Net.NumClasses}), student ({studentNet.NumClasses}) and fake network ({fakeNet.NumClasses}) must have the same number of classes");
        if (ReferenceEquals(student, fake) || ReferenceEquals(student, teacher.Net) || ReferenceEquals(fake, teacher.Net))
            throw new ArgumentException("DMD2: teacher, student and fake network must be three separate networks (copy the teacher for the others)");
        if (outDir != null)
        {
            ModelFactory.Describe(student);
            ModelFactory.Describe(fake);
        }
        if (options.PreviewSamples > 0 && shape != new Shape(2) && shape.Rank != 3)
            throw new ArgumentException($"DMD2: previews draw 2D points or images, not samples of shape {shape}");
        return student;
    }

    /// <summary>The usual distillation: student and fake denoiser both start as copies of the teacher (with DDIL's inputs when <paramref name="ddil"/> is given).</summary>
    public static Dmd2Distiller FromTeacher(FrozenTeacher teacher, Dmd2Options options, string? outDir = null, IDataSource? data = null, DdilOptions? ddil = null)
    {
        var student = teacher.TrainableCopy();
        Module? fake = null;
        try
        {
            fake = teacher.TrainableCopy();
            return new Dmd2Distiller(teacher, student, fake, options, outDir, data, ddil);
        }
        catch
        {
            student.Dispose();
            fake?.Dispose();
            throw;
        }
    }

    /// <summary>The frozen teacher D_T.</summary>
    public FrozenTeacher Teacher { get; }

    /// <summary>The student being trained (raw weights) at its levels.</summary>
    public FewStepStudent Student { get; }

    /// <summary>The fake denoiser D_φ, tracking the student's distribution.</summary>
    public Module Fake { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => Options.Gan ? GanValues : Values;

    /// <inheritdoc/>
    protected override string Activity => "distillation";

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, double? Value)> LogValues() =>
        [("lr_generator", RunLoop.Shortest(Options.GeneratorLr)), ("lr_fake", RunLoop.Shortest(Options.FakeLr)), .. DdilInputs.LogValues(_ddil, Step - 1)];

    /// <summary>True when iteration <paramref name="step"/> (0-based) updates the student as well as the fake denoiser.</summary>
    public bool UpdatesGenerator(long step) => step % Options.FakeUpdatesPerGeneratorUpdate == 0;

    /// <summary>
    /// One iteration (its inputs by backward simulation, or under DDIL from its three sources): on generator iterations the distribution-matching update of the student and its EMA, then the fake
    /// denoiser's update on the same (pre-update) student samples; with the GAN head, its loss joins the fake update and
    /// the student's adversarial loss joins its update. Returns the fake loss and the gap (NaN when the student was not
    /// updated, which the log leaves out of its means), then the two GAN losses when there is a head.
    /// </summary>
    protected override double[] Iterate(RunUpdate update)
    {
        double fakeLoss, gap = double.NaN, headLoss = double.NaN, ganLoss = double.NaN;
        bool generatorStep = UpdatesGenerator(Step);
        using (Tensor.Scope())
        {
            // Every draw covers the whole batch on every rank (streams independent of the world size); a rank computes on its rows.
            var (z, labels) = DrawLatents(Student.Net.SampleShape, Student.Net.NumClasses, _rng);
            var steps = DrawSteps();
            Tensor input, level;
            if (_ddil == null)
            {
                (input, level) = Student.SimulateInputs(z, steps, _rng, labels, Shard);
                labels = Shard.Rows(labels);
            }
            else
            {
                // DDIL rolls out this rank's rows only; its stream and replay buffer stay the same on every rank.
                var real = _data!.Batch(Step, Options.BatchSize, _dataStream!, Device);
                var drawn = _ddil.Draw(Step, steps, real.X, Student.Net.NumClasses > 0 ? real.Labels : null, Shard);
                (input, level, labels) = (drawn.X, drawn.Sigma, drawn.Labels);
            }
            var sampleShape = Student.Net.SampleShape;
            Tensor xg;
            if (generatorStep)
            {
                xg = Student.Denoise(input, level, labels);
                var sigma = Shard.RowsOf(_grid.Sample(Options.BatchSize, _rng, Device, Options.MinLevelFraction, Options.MaxLevelFraction));
                var noise = Shard.Normal(_rng, sampleShape, Device);
                gap = update.Average(Dmd2Gradient.Backward(xg, Teacher, _fakeNet, sigma, noise, labels, Options.Threshold));
                bool finite = update.Finite("generator", "distribution-matching gap", gap);
                if (_head != null)
                {
                    var adversarial = GanGeneratorLoss(xg, labels);
                    ganLoss = update.Average(adversarial.Item());
                    finite = update.Finite("generator", "GAN loss", ganLoss) && finite;
                    if (finite) adversarial.Backward();
                    // The loss reached the fake network and the head too; only the student's share is kept.
                    _fakeAdam.ZeroGrad();
                    _headAdam!.ZeroGrad();
                }
                if (finite && update.Apply(_generatorAdam, "generator")) UpdateEma();
                _generatorAdam.ZeroGrad();
            }
            else
            {
                using (Tensor.NoGrad()) xg = Student.Denoise(input, level, labels);
            }
            var fakeSigma = Shard.RowsOf(_grid.Sample(Options.BatchSize, _rng, Device));
            var fakeNoise = Shard.Normal(_rng, sampleShape, Device);
            var loss = RealFakeDenoisers.AuxiliaryLoss(Teacher, _fakeNet, xg, fakeSigma, fakeNoise, labels);
            if (_head == null)
            {
                fakeLoss = update.Minimise("fake", loss, _fakeAdam).Loss;
            }
            else
            {
                fakeLoss = update.Average(loss.Item());
                var head = GanHeadLoss(xg, labels);
                headLoss = update.Average(head.Item());
                if (update.Finite("fake", "loss", fakeLoss) && update.Finite("fake", "GAN head loss", headLoss))
                {
                    F.Add(loss, head).Backward();
                    if (update.Apply(_fakeAdam, "fake")) update.Apply(_headAdam!, "GAN head");
                }
                _headAdam!.ZeroGrad();
            }
            _fakeAdam.ZeroGrad();
        }
        return _head == null ? [fakeLoss, gap] : [fakeLoss, gap, headLoss, ganLoss];
    }

    /// <summary>Each sample's step, uniform over the K steps (a one-step student draws nothing).</summary>
    private int[] DrawSteps()
    {
        int k = Student.Steps;
        if (k == 1) return new int[Options.BatchSize];
        return _rng.Uniform([Options.BatchSize], Device.Cpu).ToArray().Select(v => Math.Min((int)(v * k), k - 1)).ToArray();
    }

    /// <summary>
    /// <paramref name="n"/> samples of the student's EMA weights with the sampler its checkpoint records and seed
    /// <paramref name="seed"/>: what `dk sample --seed` draws from the checkpoint. They belong to the current scope.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"Dmd2Distiller: sample count {n} must be ≥ 1");
        var sampler = Student.Sampler with { Seed = seed, BatchSize = n };
        return WithEmaWeights(() => DiffusionSampler.Generate(Student.Net, Student.Edm, n, sampler, device: Device).Samples);
    }

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
        Student.Module.Dispose();
        Fake.Dispose();
        _head?.Dispose();
        Teacher.Dispose();
    }
}
