using System.CommandLine;
using System.CommandLine.Parsing;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Progressive;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk distill pd --teacher T.safetensors --data SPEC --out DIR [--resume]`: progressive distillation on forward-diffused
/// data, halving the teacher's Euler steps round by round (--teacher-steps down to --final-steps) in one run, with a
/// progress bar, checkpoints (DIR/student.safetensors, the current student; DIR/student-k{K}.safetensors at each round's
/// end, a K-step student `dk sample`, `dk eval` and `dk export` take), a JSONL log and previews. Ctrl-C saves a
/// checkpoint and exits with 130.
/// </summary>
internal static class DistillPdCommand
{
    public static Command Create()
    {
        var defaults = new ProgressiveOptions();
        var run = new RunCommand("distill pd", defaults, "Updates in all rounds together (default: rounds × --steps-per-round)", "Data samples per update",
            "Samples (default: 2000 points or 100 images)", "runs/pd", ProgressiveDistiller.CheckpointFile, "student",
            otherOutputs: [RoundStudents]);
        var teacher = new Option<string?>("--teacher") { Description = "The teacher, a release checkpoint (e.g. models/toy-8gaussians-teacher.safetensors)" };
        var data = new DataFlags("Data to forward-diffuse: toy:NAME or fmnist (default: the teacher's)");
        var teacherSteps = new Option<int>("--teacher-steps") { Description = "Euler steps of the teacher on its Karras grid (a power of two: 64 or 128)", DefaultValueFactory = _ => defaults.TeacherSteps };
        PowerOfTwo(teacherSteps);
        var finalSteps = new Option<int>("--final-steps") { Description = "Steps of the last round's student (each round halves the steps)", DefaultValueFactory = _ => defaults.FinalSteps };
        finalSteps.AtLeast(1);
        var perRound = new Option<int>("--steps-per-round") { Description = "Updates per round; the learning rate decays linearly to 0 within each", DefaultValueFactory = _ => defaults.StepsPerRound };
        perRound.AtLeast(1);
        var lr = new Option<float>("--lr") { Description = "Adam learning rate at the start of every round", DefaultValueFactory = _ => defaults.Lr };
        lr.Positive();
        var clip = new Option<float>("--grad-clip") { Description = "Global gradient-norm clip", DefaultValueFactory = _ => defaults.GradClip!.Value };
        clip.Positive();
        var threshold = SampleCommand.ThresholdOption();
        threshold.Description = "x0 thresholding of the teacher's estimates in the targets and of the students' sampling: none, clip ([−1, 1]), clip:B ([−B, B]), dynamic or dynamic:Q (default: none)";
        var sigmaMax = new Option<double?>("--sigma-max") { Description = "Largest level of the teacher's grid (default: the teacher's recorded σ_max, else 80)" };
        sigmaMax.Positive();
        var cmd = run.Create("Progressive distillation: halve a teacher's sampling steps round by round (needs data)", teacher, data.Data, data.Directory,
            teacherSteps, finalSteps, perRound, lr, clip, threshold, sigmaMax);
        cmd.Together(r => r.Value(run.Resume) ? null : Halving(r, teacherSteps, finalSteps));
        cmd.SetAction(parse => run.Execute(parse, [teacher, teacherSteps, finalSteps, perRound, lr, clip, threshold, sigmaMax],
            (checkpoint, device) => ProgressiveDistiller.Resume(checkpoint, data.ForResume(parse, checkpoint), run.ResumedSteps(parse), parse.GetValue(run.Out), device,
                changes: o => run.Bookkeeping(parse, o)),
            (console, device) =>
            {
                string teacherPath = parse.GetValue(teacher) ?? throw new ArgumentException("--teacher is required (a teacher's release checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                if (!File.Exists(teacherPath)) throw new ArgumentException($"teacher {teacherPath} does not exist");
                CheckpointKind.RequireRelease(teacherPath, "dk distill pd --teacher", ModelRole.Teacher);
                var frozen = FrozenTeacher.Load(teacherPath, device);
                ProgressiveDistiller distiller;
                string spec;
                try
                {
                    (var source, spec) = data.ForTeacher(parse, teacherPath, frozen.DataSpec);
                    var grid = SamplerDefaults.Of(frozen.Metadata).ApplyTo(new SamplerOptions());
                    var options = defaults with
                    {
                        TeacherSteps = parse.GetValue(teacherSteps),
                        FinalSteps = parse.GetValue(finalSteps),
                        StepsPerRound = parse.GetValue(perRound),
                        Lr = parse.GetValue(lr),
                        GradClip = parse.GetValue(clip),
                        Threshold = parse.GetValue(threshold) is { } t ? X0Threshold.Parse(t) : null,
                        SigmaMin = grid.SigmaMin,
                        SigmaMax = parse.GetValue(sigmaMax) ?? grid.SigmaMax,
                        Rho = grid.Rho,
                        PreviewSamples = source.SampleShape.Rank == 1 ? 2000 : 100,
                    };
                    options = run.NewRun(parse, options with { Steps = options.Rounds * options.StepsPerRound });
                    distiller = ProgressiveDistiller.FromTeacher(frozen, source, options, parse.GetValue(run.Out));
                }
                catch
                {
                    frozen.Dispose();
                    throw;
                }
                var (kind, _) = ModelFactory.Describe(distiller.Student);
                var o = distiller.Options;
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"distilling {teacherPath} ({kind}, {distiller.Student.ParameterCount:N0} parameters) on {spec}: {o.TeacherSteps} → {o.FinalSteps} Euler steps in {o.Rounds} rounds of {o.StepsPerRound} updates ({o.Steps} in all), batch {o.BatchSize}, σ {o.SigmaMin}–{o.SigmaMax}, x0 threshold {X0Threshold.Format(o.Threshold)}")));
                return distiller;
            },
            "--steps, --checkpoint-every, --log-every, --preview, --fd-every and --fd-n (and --data, which must be the run's)"));
        return cmd;
    }

    /// <summary>The finished K-step student each round's end writes (student-k{K}.safetensors, see ProgressiveDistiller.RoundCheckpointFile).</summary>
    public const string RoundStudents = "student-k*.safetensors";

    /// <summary>Limits a teacher's Euler steps to a power of two ≥ 2, which every round can halve.</summary>
    public static void PowerOfTwo(Option<int> teacherSteps) =>
        teacherSteps.Check((v, typed) => ProgressiveSchedule.IsHalvable(v) ? null : $"{teacherSteps.Name} {typed} must be a power of two ≥ 2 (every round halves it)");

    /// <summary>
    /// Refuses a student step count (<paramref name="final"/>) that halving <paramref name="teacher"/>'s steps round by
    /// round never gives, naming both flags and the counts the rounds do give (the library's own check names its settings); a teacher step count that is no power of two is refused by itself.
    /// </summary>
    public static string? Halving(CommandResult r, Option<int> teacher, Option<int> final)
    {
        int t = r.Value(teacher), k = r.Value(final);
        if (!ProgressiveSchedule.IsHalvable(t)) return null;
        var reachable = ProgressiveSchedule.ReachableSteps(t);
        return reachable.Contains(k) ? null
            : $"{r.Quote(final)} cannot be reached by halving {r.Quote(teacher)}; the rounds give {string.Join(", ", reachable)}";
    }
}
