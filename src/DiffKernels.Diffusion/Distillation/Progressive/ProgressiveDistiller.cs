using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Progressive;

/// <summary>
/// Progressive distillation (Salimans &amp; Ho): the student starts as a copy of the teacher; each round it learns to
/// take in one Euler step what its teacher takes in two (<see cref="ProgressiveTarget"/>) on forward-diffused data,
/// with Adam at a learning rate decaying linearly to 0 within the round and the gradient norm clipped; after a round
/// the teacher becomes a frozen copy of the student and the student's steps halve (<see cref="ProgressiveSchedule"/>).
/// One run holds every round: its state is the round teacher, the student, the Adam moments, both random streams and
/// the counters, so a resume mid-round is bit-exact. The checkpoint <see cref="CheckpointFile"/> samples the current
/// student on its own levels; each round's end also writes <c>student-k{K}.safetensors</c>, the finished K-step
/// student (a training checkpoint `dk export` turns into a release one). The distiller owns the teacher and student.
/// </summary>
public sealed partial class ProgressiveDistiller : TrainingRun<ProgressiveOptions>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "student.safetensors";

    /// <summary>Metadata value of <see cref="CheckpointKeys.Method"/> in progressive-distillation checkpoints.</summary>
    public const string Method = "pd";

    private static readonly string[] Values = ["loss"];

    private readonly INoiseNet _studentNet;
    private readonly Module _roundTeacher;
    private readonly Adam _adam;
    private readonly IDataSource _data;
    private readonly Generator _dataRng;
    private readonly Generator _noiseRng;
    private readonly DdilInputs? _ddil;

    /// <summary>
    /// Starts a run at iteration 0 that distils <paramref name="teacher"/> into <paramref name="student"/> (a network of
    /// the teacher's kind, normally its copy: see <see cref="FromTeacher"/>) on <paramref name="data"/>.
    /// With <paramref name="ddil"/> the inputs come from DDIL's three sources (<see cref="DdilInputs"/>) instead of
    /// forward-diffused data alone; its β schedule restarts every round unless it names its own period.
    /// </summary>
    public ProgressiveDistiller(FrozenTeacher teacher, Module student, IDataSource data, ProgressiveOptions options, string? outDir = null, DdilOptions? ddil = null)
        : base(options, Checked(teacher, student, data, options, outDir), outDir, CheckpointFile)
    {
        Teacher = teacher;
        Student = student;
        _studentNet = (INoiseNet)student;
        _roundTeacher = (Module)teacher.Net;
        _data = data;
        Schedule = new ProgressiveSchedule(options);
        _adam = new Adam(student.Parameters(), options.Lr, options.Beta1, options.Beta2, options.Eps);
        State.Add(new MetadataPart(RunMetadata));
        State.Add(new ModulePart(CheckpointKeys.Generator, student));
        State.Add(new AdamPart(CheckpointKeys.StudentAdam, _adam, student));
        State.Add(new ModulePart(CheckpointKeys.RoundTeacher, _roundTeacher));
        (_dataRng, _noiseRng) = TrainOn(data);
        if (ddil != null)
        {
            _ddil = new DdilInputs(ddil, this, data.SampleShape, data.NumClasses, options.Seed, basePeriod: options.StepsPerRound);
            foreach (var part in _ddil.Parts) State.Add(part);
        }
        // Dropout off: the target and the student's step are both deterministic functions of x_a.
        student.Eval();
    }

    private static Module Checked(FrozenTeacher teacher, Module student, IDataSource data, ProgressiveOptions options, string? outDir)
    {
        if (teacher.Net is not Module teacherModule)
            throw new ArgumentException($"pd: the teacher {teacher.Net.GetType().Name} is not a module; its rounds replace its weights with the student's");
        var net = student as INoiseNet ?? throw new ArgumentException($"pd: the student {student.GetType().Name} is not a denoiser (INoiseNet)");
        if (ReferenceEquals(student, teacherModule)) throw new ArgumentException("pd: the student must be a separate copy of the teacher");
        var shape = teacher.Net.SampleShape;
        if (net.SampleShape != shape || data.SampleShape != shape)
            throw new ArgumentException($"pd: teacher samples {shape}, student {net.SampleShape} and data {data.SampleShape} must agree");
        if (net.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"pd: teacher ({teacher.Net.NumClasses}) and student ({net.NumClasses}) must have the same number of classes");
        if (teacher.Net.NumClasses > 0 && data.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"pd: the teacher is conditioned on {teacher.Net.NumClasses} classes; the data {data.Name} has {data.NumClasses}");
        var (teacherKind, teacherConfig) = ModelFactory.Describe(teacherModule);
        if (ModelFactory.Describe(student) != (teacherKind, teacherConfig))
            throw new ArgumentException("pd: the student must have the teacher's architecture (each round's student becomes the next teacher)");
        _ = new ProgressiveSchedule(options);
        bool points = shape == new Shape(2), images = shape.Rank == 3;
        if (outDir != null && options.PreviewSamples > 0 && !points && !images)
            throw new ArgumentException($"pd: previews draw 2D points or images, not samples of shape {shape}");
        return student;
    }

    /// <summary>The usual start: the student is a trainable copy of <paramref name="teacher"/> (with DDIL's inputs when <paramref name="ddil"/> is given).</summary>
    public static ProgressiveDistiller FromTeacher(FrozenTeacher teacher, IDataSource data, ProgressiveOptions options, string? outDir = null, DdilOptions? ddil = null)
    {
        var student = teacher.TrainableCopy();
        try
        {
            return new ProgressiveDistiller(teacher, student, data, options, outDir, ddil);
        }
        catch
        {
            student.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The teacher of the current round: the original teacher in round 0, then a frozen copy of the previous round's
    /// student (its weights replace the network's; <see cref="FrozenTeacher.Path"/> still names the original).
    /// </summary>
    public FrozenTeacher Teacher { get; }

    /// <summary>The student (raw weights).</summary>
    public Module Student { get; }

    /// <summary>The halving schedule.</summary>
    public ProgressiveSchedule Schedule { get; }

    /// <summary>The round whose student the state holds (see <see cref="ProgressiveSchedule.RoundAfter"/>).</summary>
    public int Round => Schedule.RoundAfter(Step);

    /// <summary>Steps of the student the state holds.</summary>
    public int StudentSteps => Schedule.StudentSteps(Round);

    /// <summary>The file round <paramref name="round"/>'s end writes in the output directory.</summary>
    public string RoundCheckpointFile(int round) => $"student-k{Schedule.StudentSteps(round)}.safetensors";

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => Values;

    /// <inheritdoc/>
    protected override string Activity => "distillation";

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, double? Value)> LogValues() =>
        [("student_steps", StudentSteps), ("lr", RunLoop.Shortest(_adam.Lr)), .. DdilInputs.LogValues(_ddil, Step - 1)];

    /// <summary>
    /// One update: at a round's start the teacher becomes the student and Adam starts afresh; then a batch of data is
    /// forward-diffused to σa of a uniformly drawn student step (under DDIL: each input drawn from its three sources at
    /// that step), the teacher's two-step target is regressed on.
    /// </summary>
    protected override double[] Iterate(RunUpdate update)
    {
        if (Schedule.StartsRound(Step))
        {
            _roundTeacher.LoadStateDict(Student.StateDict());
            _adam.LoadStateDict(new Dictionary<string, Tensor>());
        }
        int round = Schedule.RoundAt(Step);
        _adam.Lr = Schedule.LearningRate(Options.Lr, Step);
        double loss;
        using (Tensor.Scope())
        {
            // Every draw covers the whole batch on every rank (streams independent of the world size); a rank computes on its rows.
            var batch = _data.Batch(Step, Options.BatchSize, _dataRng, Device);
            var labels = Teacher.Net.NumClasses > 0 ? batch.Labels : null;
            var steps = DrawSteps(round, Options.BatchSize);
            var (sigmaA, sigmaB, sigmaC) = LevelsOf(round, steps.AsSpan(Shard.Start, Shard.Count).ToArray());
            Tensor xa;
            if (_ddil == null)
            {
                var x = Shard.RowsOf(batch.X);
                var noise = Shard.Normal(_noiseRng, _data.SampleShape, Device);
                using (Tensor.NoGrad()) xa = Ops.F.Add(x, Ops.F.Mul(noise, Ops.F.Reshape(sigmaA, PerSample(x))));
                labels = Shard.Rows(labels);
            }
            else
            {
                // DDIL rolls out this rank's rows only; its stream and replay buffer stay the same on every rank.
                var inputs = _ddil.Draw(Step, steps, batch.X, labels, Shard);
                (xa, labels) = (inputs.X, inputs.Labels);
            }
            var (target, weight) = ProgressiveTarget.Compute(Teacher, xa, sigmaA, sigmaB, sigmaC, labels, Options.Threshold);
            bool applied;
            (loss, applied) = update.Minimise(null, ProgressiveTarget.Loss(_studentNet, Teacher.Edm, xa, sigmaA, target, weight, labels), _adam);
            if (applied) UpdateEma();
            _adam.ZeroGrad();
        }
        return [loss];
    }

    /// <summary>At a round's end, saves the finished student as <see cref="RoundCheckpointFile"/> (the whole state: it samples at its K and exports).</summary>
    protected override void Iterated()
    {
        if (OutDir != null && Step % Options.StepsPerRound == 0)
            State.Save(Path.Combine(OutDir, RoundCheckpointFile(Round)));
    }

    /// <summary>Student steps [B] drawn uniformly from round <paramref name="round"/>'s K steps (noise stream).</summary>
    private int[] DrawSteps(int round, int b)
    {
        int k = Schedule.StudentSteps(round);
        return _noiseRng.Uniform([b], Device.Cpu).ToArray().Select(u => Math.Min((int)(u * k), k - 1)).ToArray();
    }

    /// <summary>σa, σb, σc [B] of round <paramref name="round"/>'s student steps <paramref name="steps"/>.</summary>
    private (Tensor A, Tensor B, Tensor C) LevelsOf(int round, int[] steps)
    {
        int b = steps.Length;
        float[] a = new float[b], mid = new float[b], c = new float[b];
        for (int i = 0; i < b; i++)
        {
            var (from, m, to) = Schedule.Levels(round, steps[i]);
            (a[i], mid[i], c[i]) = ((float)from, (float)m, (float)to);
        }
        return (Tensor.FromSpan(a, [b], Device), Tensor.FromSpan(mid, [b], Device), Tensor.FromSpan(c, [b], Device));
    }

    private static int[] PerSample(Tensor x)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        return shape;
    }

    /// <summary>
    /// <paramref name="n"/> samples of the student's EMA weights (its raw weights without an EMA) on its own levels
    /// with Euler steps, from noise of Generator(<paramref name="seed"/>): what `dk sample --seed` draws from the checkpoint.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed) =>
        WithEmaWeights(() => Sampling.DiffusionSampler.Generate(_studentNet, Teacher.Edm, n, SamplerDefaults.ApplyTo(new Sampling.SamplerOptions(Seed: seed, BatchSize: n)), device: Device).Samples);

    /// <inheritdoc/>
    public override void WritePreview(string path)
    {
        using var scope = Tensor.Scope();
        SavePreview(path, SampleEma(Math.Max(1, Options.PreviewSamples), PreviewSeed), _data.Name);
    }

    /// <summary>Releases the student and the teacher.</summary>
    protected override void DisposeNetworks()
    {
        Student.Dispose();
        Teacher.Dispose();
    }
}
