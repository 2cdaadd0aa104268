using System.CommandLine;
using System.CommandLine.Parsing;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Ddil;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk distill ddil --base pd|dmd2 --teacher T.safetensors --out DIR [--resume]`: a few-step student distilled by the
/// base method on DDIL's inputs (forward-diffused data, teacher rollouts, student rollouts from a replay buffer, mixed by
/// the β schedule), with the base's checkpoints (DIR/student.safetensors; for pd also DIR/student-k{K}.safetensors at
/// each round's end), log and previews. --threshold turns on reflected diffusion (x0 thresholding) in the rollouts, the
/// base's targets or gradient, and the student's sampler. Ctrl-C saves a checkpoint and exits with 130.
/// </summary>
internal static class DistillDdilCommand
{
    private static readonly string[] Bases = [ProgressiveDistiller.Method, Dmd2Distiller.Method];

    public static Command Create()
    {
        var pd = new ProgressiveOptions();
        var dmd2 = new Dmd2Options();
        var ddil = new DdilOptions();
        var run = new RunCommand("distill ddil", dmd2, "Iterations (default: pd, rounds × --steps-per-round, also the most; dmd2, 5000; dmd2's β schedule spans them unless --schedule-period is given, a resumed run's from its resume point on; pd's restarts each round)", "Samples per update (default: pd 128, dmd2 256)",
            "Samples (default: 2000 points or 100 images)", "runs/ddil", Dmd2Distiller.CheckpointFile, "student",
            otherOutputs: [DistillPdCommand.RoundStudents]);
        var baseMethod = new Option<string?>("--base") { Description = "The base distillation whose loss DDIL trains: pd (progressive distillation) or dmd2" };
        baseMethod.Check(v => v == null || Bases.Contains(v) ? null : $"--base {v}: expected pd or dmd2");
        var teacher = new Option<string?>("--teacher") { Description = "The teacher, a release checkpoint (on --resume: default the recorded one)" };
        var data = new DataFlags("Data of the forward-diffused source: toy:NAME or fmnist (default: the teacher's)");
        var steps = new Option<int>("--student-steps") { Description = "Student steps K (pd: the last round's, halving from --teacher-steps; dmd2: levels ⌊i·N/K⌋ of the N-point grid)", DefaultValueFactory = _ => 4 };
        steps.AtLeast(1);
        var teacherSteps = new Option<int>("--teacher-steps") { Description = "pd: Euler steps of the teacher on its Karras grid (a power of two)", DefaultValueFactory = _ => pd.TeacherSteps };
        DistillPdCommand.PowerOfTwo(teacherSteps);
        var perRound = new Option<int>("--steps-per-round") { Description = "pd: updates per halving round", DefaultValueFactory = _ => pd.StepsPerRound };
        perRound.AtLeast(1);
        var lr = new Option<float?>("--lr") { Description = $"Learning rate of the student (default: pd {pd.Lr}, dmd2 {dmd2.GeneratorLr})" };
        lr.Positive();
        var lrFake = new Option<float?>("--lr-fake") { Description = "dmd2: learning rate of the fake denoiser (default: --lr)" };
        lrFake.Positive();
        var fakeUpdates = new Option<int>("--fake-updates") { Description = "dmd2: fake-denoiser updates per student update", DefaultValueFactory = _ => dmd2.FakeUpdatesPerGeneratorUpdate };
        fakeUpdates.AtLeast(1);
        var clip = new Option<float?>("--grad-clip") { Description = $"Global gradient-norm clip (default: pd {pd.GradClip}, dmd2 {dmd2.GradClip})" };
        clip.Positive();
        var threshold = SampleCommand.ThresholdOption();
        threshold.Description = "Reflected diffusion: x0 thresholding in every rollout, the base's targets (pd) or gradient (dmd2) and the student's sampler: none, clip ([−1, 1]), clip:B ([−B, B]), dynamic or dynamic:Q (default: none)";
        var betaData = new Option<double>("--beta-data") { Description = "Final weight of forward-diffused data", DefaultValueFactory = _ => ddil.DataWeight };
        betaData.Within(0, 1);
        var betaTeacher = new Option<double>("--beta-teacher") { Description = "Final weight of teacher rollouts", DefaultValueFactory = _ => ddil.TeacherWeight };
        betaTeacher.Within(0, 1);
        var betaStudent = new Option<double>("--beta-student") { Description = "Final weight of student rollouts", DefaultValueFactory = _ => ddil.StudentWeight };
        betaStudent.Within(0, 1);
        var warmup = new Option<double>("--warmup") { Description = "Fraction of each schedule period on data alone", DefaultValueFactory = _ => ddil.WarmupFraction };
        warmup.Within(0, 1);
        var rampEnd = new Option<double>("--ramp-end") { Description = "Fraction of each period by which the weights reach their final values", DefaultValueFactory = _ => ddil.RampEndFraction };
        rampEnd.Within(0, 1);
        var period = new Option<int>("--schedule-period") { Description = "Iterations of one β-schedule period (0: pd, a round; dmd2, the run's --steps, on --resume the new total)", DefaultValueFactory = _ => ddil.SchedulePeriod };
        period.AtLeast(0, "0: the base's");
        var mix = new Option<double>("--mix") { Description = "Mixed policy: probability that the teacher takes each interval of a teacher rollout (else the student)", DefaultValueFactory = _ => ddil.MixProbability };
        mix.Within(0, 1);
        var substeps = new Option<int>("--teacher-substeps") { Description = "Teacher Euler steps per student step in teacher rollouts", DefaultValueFactory = _ => ddil.TeacherSubsteps };
        substeps.AtLeast(1);
        var buffer = new Option<int>("--buffer") { Description = "Student rollouts in the replay buffer", DefaultValueFactory = _ => ddil.BufferSize };
        buffer.AtLeast(1);
        var refresh = new Option<int>("--refresh-every") { Description = "Iterations between replay-buffer rollouts", DefaultValueFactory = _ => ddil.RefreshEvery };
        refresh.AtLeast(1);
        Option[] fixedOnResume = [baseMethod, steps, teacherSteps, perRound, lrFake, fakeUpdates, clip, threshold, betaData, betaTeacher, betaStudent, warmup, rampEnd, period, mix, substeps, buffer, refresh, lr];
        var cmd = run.Create("DDIL: train a few-step student on the teacher's data and on rollouts of the teacher and of the student itself (base: pd or dmd2)",
            [baseMethod, teacher, data.Data, data.Directory, .. fixedOnResume.Skip(1)]);
        // Limits over several flags, for a new run (a resume keeps the recorded ones); the library checks the same
        // settings for its own callers, naming them rather than the flags.
        bool New(CommandResult r) => !r.Value(run.Resume);
        cmd.Together(r => New(r) && r.Value(baseMethod) == ProgressiveDistiller.Method ? DistillPdCommand.Halving(r, teacherSteps, steps) : null);
        cmd.Together(r => New(r) && r.Value(baseMethod) == Dmd2Distiller.Method && r.Value(steps) > dmd2.GridPoints
            ? $"{r.Quote(steps)} cannot be taken from the dmd2 base's {dmd2.GridPoints}-point σ grid (its K levels are distinct grid points, so K ≤ {dmd2.GridPoints})"
            : null);
        double BetaSum(CommandResult r) => r.Value(betaData) + r.Value(betaTeacher) + r.Value(betaStudent);
        cmd.Together(r => New(r) && Math.Abs(BetaSum(r) - 1) > 1e-6
            ? DiffusionCli.Inv($"{r.Quote(betaData)} + {r.Quote(betaTeacher)} + {r.Quote(betaStudent)} make {BetaSum(r):0.######}; the final weights must sum to 1")
            : null);
        cmd.Together(r => New(r) && r.Value(warmup) > r.Value(rampEnd)
            ? $"{r.Quote(warmup)} must be ≤ {r.Quote(rampEnd)} (the weights ramp from the end of the warm-up to the ramp end)"
            : null);
        cmd.SetAction(parse => run.Execute(parse, fixedOnResume,
            (checkpoint, device) =>
            {
                string method = SafeTensors.ReadHeader(checkpoint).Metadata.GetValueOrDefault(CheckpointKeys.Method) ?? "edm";
                if (!SafeTensors.ReadHeader(checkpoint).Metadata.ContainsKey(CheckpointKeys.Ddil))
                    throw new ArgumentException($"{checkpoint} is a {method} run without DDIL; continue it with dk distill {method} --resume");
                var source = data.ForResume(parse, checkpoint);
                if (method == ProgressiveDistiller.Method)
                {
                    // The pd base's schedule is per round and its rounds are fixed: a total past the last round has nothing to train.
                    var recorded = ProgressiveOptions.FromJson(SafeTensors.ReadHeader(checkpoint).Metadata[CheckpointKeys.Options]);
                    long most = (long)recorded.Rounds * recorded.StepsPerRound;
                    if (run.ResumedSteps(parse) is { } total && total > most)
                        throw new ArgumentException($"--steps {total}: the pd-based run in {checkpoint} ends after its {recorded.Rounds} rounds × {recorded.StepsPerRound} steps per round = {most} steps (its β schedule is per round; no round follows the last)");
                    return ProgressiveDistiller.Resume(checkpoint, source, run.ResumedSteps(parse), parse.GetValue(run.Out), device, changes: o => run.Bookkeeping(parse, o));
                }
                var frozen = TeacherPath(parse, teacher) is { } path ? FrozenTeacher.Load(path, device) : null;
                try
                {
                    return Dmd2Distiller.Resume(checkpoint, frozen, run.ResumedSteps(parse), parse.GetValue(run.Out), device, changes: o => run.Bookkeeping(parse, o), data: source);
                }
                catch
                {
                    frozen?.Dispose();
                    throw;
                }
            },
            (console, device) =>
            {
                string method = parse.GetValue(baseMethod) ?? throw new ArgumentException("--base is required: pd or dmd2");
                string teacherPath = TeacherPath(parse, teacher) ?? throw new ArgumentException("--teacher is required (a teacher's release checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                CheckpointKind.RequireRelease(teacherPath, "dk distill ddil --teacher", ModelRole.Teacher);
                float? q = parse.GetValue(threshold) is { } t ? X0Threshold.Parse(t) : null;
                var ddilOptions = ddil with
                {
                    DataWeight = parse.GetValue(betaData),
                    TeacherWeight = parse.GetValue(betaTeacher),
                    StudentWeight = parse.GetValue(betaStudent),
                    WarmupFraction = parse.GetValue(warmup),
                    RampEndFraction = parse.GetValue(rampEnd),
                    SchedulePeriod = parse.GetValue(period),
                    MixProbability = parse.GetValue(mix),
                    TeacherSubsteps = parse.GetValue(substeps),
                    BufferSize = parse.GetValue(buffer),
                    RefreshEvery = parse.GetValue(refresh),
                    Threshold = q,
                };
                ddilOptions.Validate();
                var frozen = FrozenTeacher.Load(teacherPath, device);
                ITrainingRun distiller;
                string spec;
                try
                {
                    (var source, spec) = data.ForTeacher(parse, teacherPath, frozen.DataSpec);
                    int preview = source.SampleShape.Rank == 1 ? 2000 : 100;
                    if (method == ProgressiveDistiller.Method)
                    {
                        var grid = SamplerDefaults.Of(frozen.Metadata).ApplyTo(new SamplerOptions());
                        var options = pd with
                        {
                            TeacherSteps = parse.GetValue(teacherSteps),
                            FinalSteps = parse.GetValue(steps),
                            StepsPerRound = parse.GetValue(perRound),
                            Lr = parse.GetValue(lr) ?? pd.Lr,
                            GradClip = parse.GetValue(clip) ?? pd.GradClip,
                            Threshold = q,
                            SigmaMin = grid.SigmaMin,
                            SigmaMax = grid.SigmaMax,
                            Rho = grid.Rho,
                            PreviewSamples = preview,
                        };
                        options = Shared(parse, run, pd, run.NewRun(parse, options with { Steps = options.Rounds * options.StepsPerRound }));
                        distiller = ProgressiveDistiller.FromTeacher(frozen, source, options, parse.GetValue(run.Out), ddilOptions);
                    }
                    else
                    {
                        var options = Shared(parse, run, dmd2, run.NewRun(parse, dmd2 with
                        {
                            StudentSteps = parse.GetValue(steps),
                            FakeUpdatesPerGeneratorUpdate = parse.GetValue(fakeUpdates),
                            GeneratorLr = parse.GetValue(lr) ?? dmd2.GeneratorLr,
                            FakeLr = parse.GetValue(lrFake) ?? parse.GetValue(lr) ?? dmd2.FakeLr,
                            GradClip = parse.GetValue(clip) ?? dmd2.GradClip,
                            Threshold = q,
                            PreviewSamples = preview,
                        }));
                        distiller = Dmd2Distiller.FromTeacher(frozen, options, parse.GetValue(run.Out), source, ddilOptions);
                    }
                }
                catch
                {
                    frozen.Dispose();
                    throw;
                }
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"DDIL on {method}: distilling {teacherPath} into a {parse.GetValue(steps)}-step student on {spec} for {distiller.TotalSteps} steps, batch {distiller.BatchSize}; β → ({ddilOptions.DataWeight}, {ddilOptions.TeacherWeight}, {ddilOptions.StudentWeight}) from {ddilOptions.WarmupFraction} to {ddilOptions.RampEndFraction} of each period, mix {ddilOptions.MixProbability}, buffer {ddilOptions.BufferSize} every {ddilOptions.RefreshEvery}, x0 threshold {X0Threshold.Format(q)}")));
                return distiller;
            },
            "--steps, --checkpoint-every, --log-every, --preview, --fd-every and --fd-n (and --data and --teacher, which must be the run's)"));
        return cmd;
    }

    private static string? TeacherPath(ParseResult parse, Option<string?> teacher) =>
        parse.GetValue(teacher) is { } path && !File.Exists(path) ? throw new ArgumentException($"teacher {path} does not exist") : parse.GetValue(teacher);

    // The shared flags take one default for both bases; where the user gave none, the base's own batch and EMA apply.
    private static T Shared<T>(ParseResult parse, RunCommand run, T defaults, T options) where T : RunOptions => (T)((RunOptions)options with
    {
        BatchSize = RunCommand.Given(parse, run.Batch) ? options.BatchSize : defaults.BatchSize,
        EmaHalfLifeSamples = RunCommand.Given(parse, run.EmaHalfLife) ? options.EmaHalfLifeSamples : defaults.EmaHalfLifeSamples,
    });
}
