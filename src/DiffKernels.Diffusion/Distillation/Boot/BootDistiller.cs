using System.Globalization;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>
/// BOOT (data-free distillation by bootstrapping on the signal ODE). Each iteration draws pure noises ε and, per noise,
/// a pair of consecutive grid points σt &gt; σs; with no graph it takes the student's own signal y_t = g_θ(ε, σt)
/// (0 on the first pair: the hard boundary y(σmax) = 0), asks the frozen teacher for D_w(y_t + σt·ε; σt) and forms the
/// Euler/DDIM target y_t + δ'·(D − y_t), δ' = max(1 − σs/σt, clamp) (<see cref="F.BootTarget"/>); the student at σs is
/// then pulled to that stop-gradient target with weight 1/δ'². No real image is ever read. With an output directory it
/// writes <see cref="CheckpointFile"/> (the EMA student with its sampling metadata, so `dk sample` and `dk eval` draw
/// x0 = y(σmin) in one evaluation, plus the whole state for a bit-exact resume), a JSONL log with the loss per bin of
/// grid pairs, previews, and at each preview the two diagnostic plots of <see cref="BootPlots"/>. The distiller owns
/// the teacher and the student.
/// </summary>
public sealed partial class BootDistiller : TrainingRun<BootOptions>
{
    /// <summary>The checkpoint written in the output directory.</summary>
    public const string CheckpointFile = "student.safetensors";

    /// <summary>Metadata value of <see cref="CheckpointKeys.Method"/> in BOOT checkpoints.</summary>
    public const string Method = "boot";

    private readonly Adam _adam;
    private readonly Generator _rng;
    private readonly double[] _levels;
    private readonly string[] _valueNames;

    /// <summary>Starts a run at iteration 0 from the student's current weights (which also start the EMA).</summary>
    public BootDistiller(FrozenTeacher teacher, BootStudent student, BootOptions options, string? outDir = null)
        : base(options, Checked(teacher, student, options), outDir, CheckpointFile)
    {
        Teacher = teacher;
        Student = student;
        _levels = options.Levels();
        _valueNames = ["loss", .. Enumerable.Range(0, Bins).Select(b => $"loss_bin{b}"), .. options.Boundary == BootBoundary.Soft ? new[] { "boundary" } : []];
        _adam = new Adam(student.Module.Parameters(), options.Lr, options.Beta1, options.Beta2, options.Eps);
        _rng = new Generator(options.Seed);
        State.Add(new MetadataPart(RunMetadata));
        State.Add(new ModulePart(CheckpointKeys.Generator, student.Module));
        State.Add(new AdamPart(CheckpointKeys.GeneratorAdam, _adam, student.Module));
        State.Add(new RngPart(CheckpointKeys.Rng, _rng));
        // Dropout off: the target and the prediction come from the same deterministic student.
        student.Module.Eval();
    }

    private static Module Checked(FrozenTeacher teacher, BootStudent student, BootOptions options)
    {
        options.Validate();
        if (student.SampleShape != teacher.Net.SampleShape)
            throw new ArgumentException($"BOOT: teacher samples {teacher.Net.SampleShape} and student samples {student.SampleShape} must agree");
        if (student.NumClasses != teacher.Net.NumClasses)
            throw new ArgumentException($"BOOT: teacher ({teacher.Net.NumClasses}) and student ({student.NumClasses}) must have the same number of classes");
        if (ReferenceEquals(student.Module, teacher.Net))
            throw new ArgumentException("BOOT: the student must be a copy of the teacher network, not the teacher itself");
        if (student.SigmaMin != options.SigmaMin || student.SigmaMax != options.SigmaMax)
            throw new ArgumentException($"BOOT: the student's σ range [{student.SigmaMin}, {student.SigmaMax}] must be the run's [{options.SigmaMin}, {options.SigmaMax}]");
        if (options.Guidance != 1 && teacher.Net.NumClasses == 0)
            throw new ArgumentException($"BOOT: guidance {options.Guidance} needs a class-conditional teacher");
        var range = TeacherRange(teacher);
        if (options.SigmaMin < range.Min || options.SigmaMax > range.Max)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"BOOT: σ range [{options.SigmaMin}, {options.SigmaMax}] lies outside the teacher's [{range.Min}, {range.Max}]"));
        var shape = teacher.Net.SampleShape;
        if (options.PreviewSamples > 0 && shape != new Shape(2) && shape.Rank != 3)
            throw new ArgumentException($"BOOT: previews draw 2D points or images, not samples of shape {shape}");
        return student.Module;
    }

    /// <summary>
    /// The noise range a teacher is sampled over: EDM's [0.002, 80] (the evaluation protocol's grid), widened to the
    /// σmax its checkpoint records for its own sampler when that is larger.
    /// </summary>
    public static (double Min, double Max) TeacherRange(FrozenTeacher teacher)
    {
        var protocol = new SamplerOptions();
        var recorded = SamplerDefaults.Of(teacher.Metadata).ApplyTo(protocol);
        return (Math.Min(protocol.SigmaMin, recorded.SigmaMin), Math.Max(protocol.SigmaMax, recorded.SigmaMax));
    }

    /// <summary>The usual distillation: a student that is a trainable copy of the teacher's network, on the options' σ range.</summary>
    public static BootDistiller FromTeacher(FrozenTeacher teacher, BootOptions options, string? outDir = null)
    {
        var copy = teacher.TrainableCopy();
        try
        {
            return new BootDistiller(teacher, new BootStudent(copy, teacher.Edm, options.SigmaMin, options.SigmaMax), options, outDir);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The frozen teacher D_T.</summary>
    public FrozenTeacher Teacher { get; }

    /// <summary>The student being trained (raw weights).</summary>
    public BootStudent Student { get; }

    /// <summary>The grid, σmax first.</summary>
    public IReadOnlyList<double> Levels => _levels;

    /// <summary>Bins of grid pairs the log reports (at most one per pair).</summary>
    public int Bins => Math.Min(Options.LossBins, _levels.Length - 1);

    /// <summary>The bin of grid pair <paramref name="pair"/> (0 = the pair at σmax).</summary>
    public int BinOf(int pair) => pair * Bins / (_levels.Length - 1);

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ValueNames => _valueNames;

    /// <inheritdoc/>
    protected override string Activity => "distillation";

    /// <inheritdoc/>
    protected override string SkipUnit => "step";

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, double? Value)> LogValues() => [("lr", RunLoop.Shortest(Options.Lr))];

    /// <summary>One student update on the bootstrapped targets and the EMA; returns the loss, the loss per bin (NaN for an empty bin) and the boundary loss of a soft boundary.</summary>
    protected override double[] Iterate(RunUpdate update)
    {
        using var scope = Tensor.Scope();
        int pairs = _levels.Length - 1;
        // Every draw covers the whole batch on every rank (streams independent of the world size); a rank computes on its rows.
        var (noises, classes) = DrawLatents(Student, _rng);
        var (eps, labels) = (Shard.RowsOf(noises), Shard.Rows(classes));
        var pair = Pairs(_rng.Uniform([Options.BatchSize], Device.Cpu).ToArray(), pairs, Options.Pairs).AsSpan(Shard.Start, Shard.Count).ToArray();
        int b = pair.Length;
        var sigmaT = Tensor.FromSpan(pair.Select(k => (float)_levels[k]).ToArray(), [b], Device);
        var sigmaS = Tensor.FromSpan(pair.Select(k => (float)_levels[k + 1]).ToArray(), [b], Device);
        Tensor target, weight;
        using (Tensor.NoGrad())
        {
            // Hard boundary: the first pair bootstraps from the exact y(σmax) = 0.
            var keep = Tensor.FromSpan(pair.Select(k => k == 0 ? 0f : 1f).ToArray(), BatchShape(eps), Device);
            var yt = F.Mul(Student.Signal(eps, sigmaT, labels), keep);
            var xt = F.Add(yt, F.Mul(eps, F.Reshape(sigmaT, BatchShape(eps))));
            var denoised = Teacher.Denoise(xt, sigmaT, labels, Options.Guidance);
            (target, weight) = F.BootTarget(yt, denoised, sigmaT, sigmaS, Options.MinDelta);
        }
        var perSample = F.Sum(F.Square(F.Sub(Student.Signal(eps, sigmaS, labels), target)), Enumerable.Range(1, eps.Rank - 1).ToArray());
        var weighted = F.Mul(perSample, weight);
        var loss = F.MulScalar(F.Sum(weighted), 1f / b);
        double boundary = double.NaN;
        if (Options.Boundary == BootBoundary.Soft)
        {
            var top = Tensor.Full([b], (float)Options.SigmaMax, Device);
            var anchor = Teacher.Denoise(F.MulScalar(eps, (float)Options.SigmaMax), top, labels, Options.Guidance);
            var boundaryLoss = F.MulScalar(F.Sum(F.Square(F.Sub(Student.Estimate(eps, top, labels), anchor))), 1f / b);
            boundary = update.Average(boundaryLoss.Item());
            loss = F.Add(loss, boundaryLoss);
        }
        var (value, applied) = update.Minimise(null, loss, _adam);
        if (applied) UpdateEma();
        _adam.ZeroGrad();
        return [value, .. BinMeans(weighted.ToArray(), pair, update), .. Options.Boundary == BootBoundary.Soft ? new[] { boundary } : []];
    }

    /// <summary>
    /// The pair index (0 = the pair at σmax) of each noise of a batch from its uniform draws <paramref name="u"/>: each
    /// draw on its own (<see cref="BootPairSampling.Uniform"/>), or the first draw as the offset of an even spread
    /// (<see cref="BootPairSampling.Stratified"/>).
    /// </summary>
    public static int[] Pairs(float[] u, int pairs, BootPairSampling sampling)
    {
        int b = u.Length;
        return Enumerable.Range(0, b).Select(i => Math.Min(sampling == BootPairSampling.Uniform ? (int)(u[i] * pairs) : (int)((i + (double)u[0]) / b * pairs), pairs - 1)).ToArray();
    }

    // Each bin's mean over the whole batch: the ranks' sums and counts are added before dividing.
    private double[] BinMeans(float[] losses, int[] pair, RunUpdate update)
    {
        var sumsAndCounts = new float[2 * Bins];
        for (int i = 0; i < losses.Length; i++)
        {
            int bin = BinOf(pair[i]);
            sumsAndCounts[bin] += losses[i];
            sumsAndCounts[Bins + bin]++;
        }
        update.Sum(sumsAndCounts);
        return Enumerable.Range(0, Bins).Select(i => sumsAndCounts[Bins + i] > 0 ? (double)sumsAndCounts[i] / sumsAndCounts[Bins + i] : double.NaN).ToArray();
    }

    /// <summary>
    /// <paramref name="n"/> one-step samples of the student's EMA weights from noises drawn by Generator(<paramref name="seed"/>)
    /// (conditional students get labels i mod classes), owned by the current scope: what `dk sample --seed` draws from its checkpoint.
    /// </summary>
    public Tensor SampleEma(int n, ulong seed) => SampleEma(Student, n, seed);

    /// <summary>
    /// The mean squared gap per grid level between the EMA student's y(σ) and the teacher's ODE trajectory from the same
    /// <paramref name="n"/> noises of Generator(<paramref name="seed"/>); see <see cref="BootTrajectoryGap"/>.
    /// </summary>
    public double[] TrajectoryGap(int n, ulong seed) =>
        WithEmaWeights(() => Tensor.FromSpan(BootTrajectoryGap.Measure(Student, Teacher, _levels, n, seed, Options.Guidance, Device).Select(v => (float)v).ToArray(), [_levels.Length])).ToArray().Select(v => (double)v).ToArray();

    /// <summary>
    /// Writes <see cref="RunOptions.PreviewSamples"/> one-step EMA samples to <paramref name="path"/> (2D points over the
    /// teacher's toy density, images as a grid) and refreshes the two diagnostic plots in the output directory.
    /// </summary>
    public override void WritePreview(string path)
    {
        using (Tensor.Scope()) SavePreview(path, SampleEma(Math.Max(1, Options.PreviewSamples), PreviewSeed), Teacher.DataSpec);
        if (OutDir != null) BootPlots.Write(this, OutDir);
    }

    private static int[] BatchShape(Tensor x)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        return shape;
    }

    /// <summary>Releases the student and the teacher.</summary>
    protected override void DisposeNetworks()
    {
        Student.Module.Dispose();
        Teacher.Dispose();
    }
}
