using DiffKernels.Diffusion.Training;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Ddil;

/// <summary>
/// A batch of DDIL inputs: the data block first, then the teacher rollouts, then the student rollouts (of a
/// data-parallel rank: its rows of that batch, while the counts stay the whole batch's).
/// </summary>
/// <param name="X">The inputs [N, …], each at its sample's student step.</param>
/// <param name="Sigma">Each sample's level σ_k [N].</param>
/// <param name="Labels">Class ids [N] the inputs were made with (null when unconditional).</param>
/// <param name="DataCount">Samples from forward-diffused data.</param>
/// <param name="TeacherCount">Samples from teacher rollouts.</param>
/// <param name="StudentCount">Samples from student rollouts.</param>
public sealed record DdilBatch(Tensor X, Tensor Sigma, Tensor? Labels, int DataCount, int TeacherCount, int StudentCount);

/// <summary>
/// DDIL's input draw, the part a base distillation delegates to: given each sample's student step k (the base draws
/// them as it always does) and a batch of real data, each sample takes its input from one of three sources with the
/// probabilities of <see cref="DdilSchedule"/>: forward diffusion of its data x0 + σ_k·n, a teacher rollout
/// (<see cref="DdilRollouts.Teacher"/>, optionally the mixed policy) or a student rollout from the
/// <see cref="ReplayBuffer"/>. Every draw comes from DDIL's own random stream; the stream, the options and the buffer
/// are the state parts (<see cref="Parts"/>) the base registers, so a resume is bit-exact.
/// </summary>
public sealed class DdilInputs
{
    // A fixed odd constant keys DDIL's stream apart from the base's streams of the same seed.
    private const ulong StreamKey = 0xD0D1_15EE_D000_0001UL;

    private readonly IDdilBase _student;
    private readonly Generator _rng;
    private readonly DdilOptions _given;

    /// <summary>
    /// DDIL on <paramref name="student"/> (samples shaped <paramref name="sampleShape"/>, <paramref name="classes"/> classes)
    /// with a stream seeded from <paramref name="seed"/>. <paramref name="basePeriod"/> is the base's schedule period, taken
    /// when <paramref name="options"/> name none (0 there); the options are recorded as given, so a period that was the
    /// base's is the base's again on resume (for DMD2 the run's total, which a resume may change).
    /// </summary>
    public DdilInputs(DdilOptions options, IDdilBase student, Shape sampleShape, int classes, ulong seed, int basePeriod = 0)
    {
        options.Validate();
        _given = options;
        if (options.SchedulePeriod == 0) options = options with { SchedulePeriod = basePeriod };
        if (options.SchedulePeriod < 1) throw new ArgumentException($"ddil: the options name no schedule period and the base's, {basePeriod}, is not ≥ 1");
        Options = options;
        _student = student;
        _rng = new Generator(seed ^ StreamKey);
        Buffer = new ReplayBuffer(options, sampleShape, classes);
    }

    /// <summary>The settings, with the schedule period resolved (≥ 1).</summary>
    public DdilOptions Options { get; }

    /// <summary>The student-rollout replay buffer.</summary>
    public ReplayBuffer Buffer { get; }

    /// <summary>
    /// The state a base registers: the options as given (recorded, read back by its Resume; a period of 0 stays "the
    /// base's"), the stream and the buffer.
    /// </summary>
    public IEnumerable<IStatePart> Parts =>
        [new MetadataPart(() => [new(CheckpointKeys.Ddil, _given.ToJson())]), new RngPart(CheckpointKeys.DdilRng, _rng), Buffer];

    /// <summary>The source weights of iteration <paramref name="step"/>.</summary>
    public DdilWeights Weights(long step) => DdilSchedule.At(Options, step);

    /// <summary>
    /// The inputs of iteration <paramref name="step"/> at the samples' student steps <paramref name="steps"/> (0-based), with
    /// <paramref name="x0"/> [N, …] the real data for the data source and <paramref name="labels"/> its class ids (the
    /// teacher rollouts are conditioned on them too). Each sample's source is drawn independently; the batch is ordered by
    /// source (data, teacher, student), which a mean loss does not see.
    /// Given <paramref name="rows"/> (a data-parallel rank's share of the batch), the inputs, levels and labels are those
    /// rows' and the teacher rolls out only those of its samples, while every draw is the whole batch's (the stream, the
    /// counts and the replay buffer, which every rank rolls out alike, stay those of one process).
    /// </summary>
    public DdilBatch Draw(long step, IReadOnlyList<int> steps, Tensor x0, Tensor? labels, BatchShard? rows = null)
    {
        int n = steps.Count;
        if (x0.Shape[0] != n) throw new ArgumentException($"ddil: {x0.Shape[0]} data samples for {n} step indices");
        var shard = rows ?? new BatchShard(0, 1, n);
        if (shard.BatchSize != n || shard.Count == 0) throw new ArgumentException($"ddil: rows [{shard.Start}, {shard.Start + shard.Count}) of a batch of {shard.BatchSize} for {n} samples");
        var levels = _student.StudentLevels;
        var w = Weights(step);
        var u = _rng.Uniform([n], Device.Cpu).ToArray();
        int dataCount = u.Count(v => v < w.Data), teacherCount = u.Count(v => v >= w.Data && v < w.Data + w.Teacher);
        int studentCount = n - dataCount - teacherCount;
        var device = x0.Device;
        var sample = x0.Shape.Skip(1).ToArray();
        var xs = new List<Tensor>();
        var ls = new List<Tensor>();
        // The part of the block of rows [from, from + count) that this shard holds, relative to the block.
        BatchShard Part(int from, int count)
        {
            int a = Math.Clamp(shard.Start - from, 0, count), b = Math.Clamp(shard.Start + shard.Count - from, 0, count);
            return BatchShard.Range(a, b - a, count);
        }
        void Add(BatchShard part, Tensor x, Tensor? l)
        {
            if (part.Count == 0) return;
            xs.Add(part.RowsOf(x));
            if (l != null) ls.Add(part.RowsOf(l));
        }
        if (dataCount > 0)
        {
            var noise = _rng.Normal([dataCount, .. sample], device);
            Add(Part(0, dataCount), F.Add(F.Narrow(x0, 0, 0, dataCount), F.Mul(noise, PerSampleSigma(steps.Take(dataCount), levels, noise))),
                labels == null ? null : F.Narrow(labels, 0, 0, dataCount));
        }
        if (teacherCount > 0)
        {
            var z = _rng.Normal([teacherCount, .. sample], device);
            var teacherLabels = labels == null ? null : F.Narrow(labels, 0, dataCount, teacherCount);
            var part = Part(dataCount, teacherCount);
            var rollout = DdilRollouts.Teacher(_student, z, steps.Skip(dataCount).Take(teacherCount).ToArray(), teacherLabels, Options.MixProbability,
                Options.TeacherSubsteps, Options.Threshold, _rng, part);
            if (part.Count > 0)
            {
                xs.Add(rollout.Input);
                if (teacherLabels != null) ls.Add(part.RowsOf(teacherLabels));
            }
        }
        if (studentCount > 0)
        {
            if (Buffer.NeedsRefresh(step, levels)) Buffer.Refresh(_student, step, _rng, device);
            var (x, bufferLabels) = Buffer.Draw(steps.Skip(dataCount + teacherCount).ToArray(), levels, _rng, device);
            if (labels != null && bufferLabels == null) throw new InvalidOperationException("ddil: a conditional run's replay buffer holds no class ids");
            Add(Part(dataCount + teacherCount, studentCount), x, labels == null ? null : bufferLabels);
        }
        var sigma = Tensor.FromSpan(steps.Skip(shard.Start).Take(shard.Count).Select(k => (float)levels[k]).ToArray(), [shard.Count], device);
        return new DdilBatch(xs.Count == 1 ? xs[0] : F.Concat(xs, 0), sigma, labels == null ? null : ls.Count == 1 ? ls[0] : F.Concat(ls, 0),
            dataCount, teacherCount, studentCount);
    }

    /// <summary>
    /// What a base's log line adds under DDIL (nothing without it): the source weights of iteration <paramref name="step"/>.
    /// </summary>
    public static IEnumerable<(string Name, double? Value)> LogValues(DdilInputs? ddil, long step)
    {
        if (ddil == null) return [];
        var w = ddil.Weights(Math.Max(0, step));
        return [("beta_data", w.Data), ("beta_teacher", w.Teacher), ("beta_student", w.Student)];
    }

    private static Tensor PerSampleSigma(IEnumerable<int> steps, IReadOnlyList<double> levels, Tensor like)
    {
        var values = steps.Select(k => (float)levels[k]).ToArray();
        var shape = Enumerable.Repeat(1, like.Rank).ToArray();
        shape[0] = values.Length;
        return Tensor.FromSpan(values, shape, like.Device);
    }
}
