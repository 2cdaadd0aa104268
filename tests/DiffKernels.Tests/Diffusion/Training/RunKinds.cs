using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Diffusion.Training.Sadm;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Diffusion.Models;

namespace DiffKernels.Tests.Diffusion.Training;

/// <summary>
/// How <see cref="RunContractTests"/> builds one run kind at tiny toy settings: a new run (optionally with non-finite
/// values injected at chosen steps) and a resume of its checkpoint.
/// </summary>
public abstract class RunKind
{
    /// <summary>
    /// A new run of <paramref name="steps"/> iterations (measuring <paramref name="curve"/> when given); iterations at the
    /// 0-based <paramref name="poisoned"/> steps see a NaN.
    /// </summary>
    public abstract ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned);

    /// <summary>Continues <paramref name="checkpoint"/> to <paramref name="steps"/> iterations.</summary>
    public abstract ITrainingRun Resume(string checkpoint, int steps);

    /// <summary>What measures the kind's quality curve: SW₂ on 8 Gaussians, where its samples are 2D points (null: none fits).</summary>
    public virtual QualityProbe? Probe => QualityProbe.Toy(GaussianMixtureToy.EightGaussians());

    /// <inheritdoc/>
    public override string ToString() => GetType().Name;
}

/// <summary>A data source whose batches at chosen steps start with a NaN (drawn like the clean ones, so the streams stay in step).</summary>
internal sealed class PoisonedSource(IDataSource inner, params long[] poisoned) : IDataSource
{
    public string Name => inner.Name;

    public Shape SampleShape => inner.SampleShape;

    public int NumClasses => inner.NumClasses;

    public DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null)
    {
        var b = inner.Batch(step, batchSize, gen, device);
        if (!poisoned.Contains(step)) return b;
        var v = b.X.ToArray();
        v[0] = float.NaN;
        return new DataBatch(Tensor.FromSpan(v, b.X.Shape, device), b.Labels);
    }
}

/// <summary>A teacher that answers NaN on chosen calls (1-based) and the wrapped network otherwise.</summary>
internal sealed class PoisonedTeacher(INoiseNet inner, params long[] badCalls) : INoiseNet
{
    private long _calls;

    public int NumClasses => inner.NumClasses;

    public Shape SampleShape => inner.SampleShape;

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        var f = inner.Forward(x, cNoise, labels);
        return badCalls.Contains(++_calls) ? Tensor.Full(f.Shape, float.NaN, f.Device) : f;
    }
}

/// <summary>An Mlp EDM teacher on 8 Gaussians.</summary>
public sealed class EdmRunKind : RunKind
{
    private static readonly TrainerOptions Options = new() { BatchSize = 32, Lr = 3e-3f, WarmupSteps = 2, LogEvery = 1, Seed = 7 };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        new EdmTrainer(new Mlp(new MlpConfig(Hidden: 32), new Generator(1)), new PoisonedSource(Data, poisoned),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => EdmTrainer.Resume(checkpoint, Data, steps);
}

/// <summary>
/// An Mlp EDM teacher on 8 Gaussians with SADM's structure term (<paramref name="sadm"/>): per step a denoiser update and
/// an encoder update, both part of the state.
/// </summary>
public class SadmRunKind(SadmOptions sadm) : RunKind
{
    /// <summary>The defaults (KL of row distributions, one shared σ per step) with a small encoder and a short λ warm-up.</summary>
    public SadmRunKind()
        : this(new SadmOptions { Features = 8, EncoderWidths = [16, 16], WarmupSteps = 3, EncoderLr = 1e-3f })
    {
    }

    private TrainerOptions Options => new() { BatchSize = 16, Lr = 3e-3f, WarmupSteps = 2, LogEvery = 1, Seed = 8, Sadm = sadm };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        new EdmTrainer(new Mlp(new MlpConfig(Hidden: 32), new Generator(1)), new PoisonedSource(Data, poisoned),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => EdmTrainer.Resume(checkpoint, Data, steps);
}

/// <summary>SADM with the alternatives: squared affinity differences, one σ per sample, no c_skip weighting.</summary>
public sealed class SadmSquaredRunKind() : SadmRunKind(new SadmOptions
{
    Features = 8, EncoderWidths = [16], WarmupSteps = 0, EncoderLr = 1e-3f, Distance = SadmDistance.Squared, SharedSigma = false, CSkipWeighting = false,
});

/// <summary>A tiny conditional GAN on two-level images.</summary>
public sealed class GanRunKind : RunKind
{
    private static readonly GanOptions Options = new() { BatchSize = 8, LogEvery = 1, PreviewSamples = 0, EmaHalfLifeSamples = 100, Seed = 2 };

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        new GanTrainer(new GanGenerator(TinyModels.Gan(2), new Generator(1)), new GanDiscriminator(TinyModels.Gan(2), new Generator(2)),
            new PoisonedSource(new TwoLevelImages(), poisoned), Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => GanTrainer.Resume(checkpoint, new TwoLevelImages(), steps);

    /// <summary>None: no metric classifier reads 8×8 images (a GAN's FD curve is tested through dk train-gan on Fashion-MNIST-shaped data).</summary>
    public override QualityProbe? Probe => null;
}

/// <summary>A one-step Diff-Instruct student of a small random Mlp teacher (one teacher call per iteration, at the generator update).</summary>
public sealed class DiffInstructRunKind : RunKind
{
    private static readonly DiffInstructOptions Options = new() { BatchSize = 16, GeneratorLr = 1e-3f, AuxiliaryLr = 1e-3f, LogEvery = 1, Seed = 3 };

    private static FrozenTeacher Teacher(params long[] poisoned) =>
        new(new PoisonedTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), poisoned.Select(s => s + 1).ToArray()), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned)
    {
        var teacher = Teacher(poisoned);
        var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        var aux = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        return new DiffInstructDistiller(teacher, new OneStepGenerator(net, teacher.Edm), aux,
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);
    }

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => DiffInstructDistiller.Resume(checkpoint, Teacher(), steps);
}

/// <summary>
/// Progressive distillation of a small random Mlp teacher on 8 Gaussians: 8 → 4 → 2 → 1 steps in three rounds of two
/// updates, so the contract's six steps cross two teacher swaps and its resume at step 3 lands mid-round.
/// </summary>
public sealed class ProgressiveRunKind : RunKind
{
    private static readonly ProgressiveOptions Options = new() { BatchSize = 16, TeacherSteps = 8, FinalSteps = 1, StepsPerRound = 2, Lr = 1e-3f, LogEvery = 1, Seed = 4 };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        ProgressiveDistiller.FromTeacher(new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm()), new PoisonedSource(Data, poisoned),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => ProgressiveDistiller.Resume(checkpoint, Data, steps);
}

/// <summary>
/// A two-step DMD2 student of a small random Mlp teacher (backward simulation on every iteration); one fake update per
/// student update, so the teacher is called once per iteration, at the student's update.
/// </summary>
public sealed class Dmd2RunKind : RunKind
{
    private static readonly Dmd2Options Options = new()
    {
        BatchSize = 16, StudentSteps = 2, FakeUpdatesPerGeneratorUpdate = 1, GeneratorLr = 1e-3f, FakeLr = 1e-3f, LogEvery = 1, Seed = 5,
    };

    private static FrozenTeacher Teacher(params long[] poisoned) =>
        new(new PoisonedTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), poisoned.Select(s => s + 1).ToArray()), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned)
    {
        var teacher = Teacher(poisoned);
        var student = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        var fake = new Mlp(new MlpConfig(Hidden: 16), new Generator(1));
        return new Dmd2Distiller(teacher, student, fake, Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);
    }

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => Dmd2Distiller.Resume(checkpoint, Teacher(), steps);
}

/// <summary>
/// A one-step DMD2 student with the GAN head on 8 Gaussians (one fake update per student update); the real data is
/// poisoned, which only the fake network's update reads.
/// </summary>
public sealed class Dmd2GanRunKind : RunKind
{
    private static readonly Dmd2Options Options = new()
    {
        BatchSize = 16, FakeUpdatesPerGeneratorUpdate = 1, Gan = true, GeneratorLr = 1e-3f, FakeLr = 1e-3f, LogEvery = 1, Seed = 6,
    };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    private static FrozenTeacher Teacher() => new(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        new Dmd2Distiller(Teacher(), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir, new PoisonedSource(Data, poisoned));

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => Dmd2Distiller.Resume(checkpoint, Teacher(), steps, data: Data);
}

/// <summary>A BOOT student of a small random Mlp teacher (one teacher call per iteration, for the bootstrapped target).</summary>
public sealed class BootRunKind : RunKind
{
    private static readonly BootOptions Options = new() { BatchSize = 16, Lr = 1e-3f, GridPoints = 8, LogEvery = 1, Seed = 5 };

    private static FrozenTeacher Teacher(params long[] poisoned) =>
        new(new PoisonedTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), poisoned.Select(s => s + 1).ToArray()), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned)
    {
        var teacher = Teacher(poisoned);
        var student = new BootStudent(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), teacher.Edm, Options.SigmaMin, Options.SigmaMax);
        return new BootDistiller(teacher, student, Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);
    }

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => BootDistiller.Resume(checkpoint, Teacher(), steps);
}

/// <summary>
/// Progressive distillation on DDIL's inputs: 8 → 4 → 2 steps in two rounds of three updates, the β schedule restarting
/// each round (data alone at a round's first update, then the mixed sources), teacher rollouts under a 50 % mixed policy,
/// a replay buffer rolled out every two updates and at the round change. The data is poisoned, which only the data
/// source reads (it draws at least one sample of each batch here).
/// </summary>
public sealed class DdilPdRunKind : RunKind
{
    private static readonly ProgressiveOptions Options = new() { BatchSize = 16, TeacherSteps = 8, FinalSteps = 2, StepsPerRound = 3, Lr = 1e-3f, LogEvery = 1, Seed = 8 };

    private static readonly DdilOptions Ddil = new() { MixProbability = 0.5, BufferSize = 8, RefreshEvery = 2 };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        ProgressiveDistiller.FromTeacher(new FrozenTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm()), new PoisonedSource(Data, poisoned),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir, Ddil);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => ProgressiveDistiller.Resume(checkpoint, Data, steps);
}

/// <summary>
/// A three-step DMD2 student on DDIL's inputs (one fake update per student update), all three sources mixed from the
/// second iteration of a six-iteration schedule, teacher rollouts under a 50 % mixed policy, a replay buffer rolled out
/// every two iterations. The teacher answers NaN at poisoned iterations only on whole batches: its one such call per
/// iteration is the distribution-matching gradient's (rollouts see the teacher's share of the batch), so only the
/// student's update is skipped.
/// </summary>
public sealed class DdilDmd2RunKind : RunKind
{
    private static readonly Dmd2Options Options = new()
    {
        BatchSize = 16, StudentSteps = 3, FakeUpdatesPerGeneratorUpdate = 1, GeneratorLr = 1e-3f, FakeLr = 1e-3f, LogEvery = 1, Seed = 9,
    };

    private static readonly DdilOptions Ddil = new() { MixProbability = 0.5, BufferSize = 8, RefreshEvery = 2, SchedulePeriod = 6, TeacherSubsteps = 2 };

    private static ToyDataSource Data => new(GaussianMixtureToy.EightGaussians());

    private static FrozenTeacher Teacher(Func<long>? step = null, params long[] poisoned) =>
        new(new WholeBatchPoisonedTeacher(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), Options.BatchSize, step, poisoned), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned)
    {
        Dmd2Distiller? run = null;
        var teacher = Teacher(() => run!.Step, poisoned);
        run = new Dmd2Distiller(teacher, new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir, Data, Ddil);
        return run;
    }

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => Dmd2Distiller.Resume(checkpoint, Teacher(), steps, data: Data);
}

/// <summary>A teacher that answers NaN to calls on a whole batch of <paramref name="batch"/> samples during the poisoned iterations.</summary>
internal sealed class WholeBatchPoisonedTeacher(INoiseNet inner, int batch, Func<long>? step, params long[] poisoned) : INoiseNet
{
    public int NumClasses => inner.NumClasses;

    public Shape SampleShape => inner.SampleShape;

    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        var f = inner.Forward(x, cNoise, labels);
        return step != null && x.Shape[0] == batch && poisoned.Contains(step()) ? Tensor.Full(f.Shape, float.NaN, f.Device) : f;
    }
}

/// <summary>
/// A two-step DMD2 student on the two-time-scale rule: two fake updates per student update, so iterations alternate
/// between both updates and the fake update alone (a variant <see cref="Distributed.DataParallelTests"/> adds).
/// </summary>
public sealed class Dmd2TwoTimeScaleRunKind : RunKind
{
    private static readonly Dmd2Options Options = new()
    {
        BatchSize = 16, StudentSteps = 2, FakeUpdatesPerGeneratorUpdate = 2, GeneratorLr = 1e-3f, FakeLr = 1e-3f, LogEvery = 1, Seed = 10,
    };

    private static FrozenTeacher Teacher() => new(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned) =>
        new Dmd2Distiller(Teacher(), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Mlp(new MlpConfig(Hidden: 16), new Generator(1)),
            Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => Dmd2Distiller.Resume(checkpoint, Teacher(), steps);
}

/// <summary>
/// A BOOT student with the soft boundary and stratified pairs (one uniform offset spreads the whole batch over the grid),
/// a variant <see cref="Distributed.DataParallelTests"/> adds.
/// </summary>
public sealed class BootSoftStratifiedRunKind : RunKind
{
    private static readonly BootOptions Options = new()
    {
        BatchSize = 16, Lr = 1e-3f, GridPoints = 8, LogEvery = 1, Seed = 11, Boundary = BootBoundary.Soft, Pairs = BootPairSampling.Stratified,
    };

    private static FrozenTeacher Teacher() => new(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), new Edm());

    /// <inheritdoc/>
    public override ITrainingRun Start(string? outDir, int steps, int checkpointEvery = 0, int maxConsecutiveSkips = 20, QualityCurveOptions? curve = null, params long[] poisoned)
    {
        var teacher = Teacher();
        var student = new BootStudent(new Mlp(new MlpConfig(Hidden: 16), new Generator(1)), teacher.Edm, Options.SigmaMin, Options.SigmaMax);
        return new BootDistiller(teacher, student, Options with { Steps = steps, CheckpointEvery = checkpointEvery, MaxConsecutiveSkips = maxConsecutiveSkips, QualityCurve = curve }, outDir);
    }

    /// <inheritdoc/>
    public override ITrainingRun Resume(string checkpoint, int steps) => BootDistiller.Resume(checkpoint, Teacher(), steps);
}
