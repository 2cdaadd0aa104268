using System.CommandLine;
using System.Globalization;
using DiffKernels.Diffusion.Distillation.Boot;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk distill boot --teacher T.safetensors --out DIR [--resume]`: data-free one-step distillation by bootstrapping on the
/// signal ODE, with a progress bar, checkpoints (DIR/student.safetensors, which `dk sample` and `dk eval` draw from in one
/// evaluation), a JSONL log with the loss per σ bin, previews and the two BOOT plots (loss per σ bin over training,
/// student-versus-teacher trajectory gap per σ). Ctrl-C saves a checkpoint and exits with 130. No dataset is opened.
/// </summary>
internal static class DistillBootCommand
{
    public static Command Create()
    {
        var defaults = new BootOptions();
        var run = new RunCommand("distill boot", defaults, "Iterations: one student update each", "Noises per update",
            "Samples (default: 2000 points or 100 images)", "runs/boot", BootDistiller.CheckpointFile, "student",
            otherOutputs: [BootPlots.LossFile, BootPlots.GapFile, Path.ChangeExtension(BootPlots.LossFile, ".json"), Path.ChangeExtension(BootPlots.GapFile, ".json")]);
        var teacher = new Option<string?>("--teacher") { Description = "The teacher checkpoint (on --resume: default the recorded one; it must be the same file)" };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate of the student (on --resume: the rate from here on)", DefaultValueFactory = _ => defaults.Lr };
        lr.Positive();
        var grid = new Option<int>("--grid") { Description = "Points of the σ grid (32–64 recommended; at least 2)", DefaultValueFactory = _ => defaults.GridPoints };
        grid.AtLeast(2, "one pair");
        var spacing = new Option<string>("--grid-kind") { Description = "Spacing of the grid: karras or log-sigma", DefaultValueFactory = _ => "karras" };
        var sigmaMin = new Option<double>("--sigma-min") { Description = "Smallest σ of the grid; one-step samples are y(σmin)", DefaultValueFactory = _ => defaults.SigmaMin };
        sigmaMin.Positive();
        var sigmaMax = new Option<double>("--sigma-max") { Description = "Largest σ, where the trajectory starts at σmax·ε", DefaultValueFactory = _ => defaults.SigmaMax };
        sigmaMax.Positive();
        var minDelta = new Option<float>("--min-delta") { Description = "Lower clamp of the step δ' = 1 − σs/σt (bounds the 1/δ'² weight)", DefaultValueFactory = _ => defaults.MinDelta };
        minDelta.Check((v, typed) => v > 0 && v <= 1 ? null : $"--min-delta {typed} must be in (0, 1]");
        var boundary = new Option<string>("--boundary") { Description = "hard (first pair bootstraps from y(σmax) = 0) or soft (also pulls the student's x0 estimate at σmax to the teacher's)", DefaultValueFactory = _ => "hard" };
        var pairs = new Option<string>("--pairs") { Description = "How each noise's grid pair is drawn: uniform (independently) or stratified (evenly over the pairs within a batch)", DefaultValueFactory = _ => "uniform" };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance weight of the teacher's target (1: none)", DefaultValueFactory = _ => defaults.Guidance };
        guidance.Finite();
        var cmd = run.Create("BOOT: distil a teacher into a one-step generator by bootstrapping on its signal ODE (data-free)",
            teacher, lr, grid, spacing, pairs, sigmaMin, sigmaMax, minDelta, boundary, guidance);
        cmd.Together(r => r.Value(run.Resume) || r.Value(sigmaMin) < r.Value(sigmaMax) ? null
            : $"{r.Quote(sigmaMin)} must be below {r.Quote(sigmaMax)} (the grid runs from σmax down to σmin)");
        cmd.SetAction(parse =>
        {
            string? TeacherPath() => parse.GetValue(teacher) is { } path && !File.Exists(path) ? throw new ArgumentException($"teacher {path} does not exist") : parse.GetValue(teacher);
            return run.Execute(parse, [grid, spacing, pairs, sigmaMin, sigmaMax, minDelta, boundary, guidance],
                (checkpoint, device) =>
                {
                    var frozen = TeacherPath() is { } path ? FrozenTeacher.Load(path, device) : null;
                    try
                    {
                        return BootDistiller.Resume(checkpoint, frozen, run.ResumedSteps(parse), parse.GetValue(run.Out), device, changes: o => run.Bookkeeping(parse, o) with
                        {
                            Lr = RunCommand.Given(parse, lr) ? parse.GetValue(lr) : o.Lr,
                        });
                    }
                    catch
                    {
                        frozen?.Dispose();
                        throw;
                    }
                },
                (console, device) =>
                {
                    string teacherPath = TeacherPath() ?? throw new ArgumentException("--teacher is required (a teacher checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                    var kind = CheckpointKind.RequireRelease(teacherPath, "a distillation teacher (--teacher)", ModelRole.Teacher);
                    var options = run.NewRun(parse, defaults with
                    {
                        Lr = parse.GetValue(lr),
                        GridPoints = parse.GetValue(grid),
                        Grid = ParseGrid(parse.GetValue(spacing)!),
                        Pairs = ParsePairs(parse.GetValue(pairs)!),
                        SigmaMin = parse.GetValue(sigmaMin),
                        SigmaMax = parse.GetValue(sigmaMax),
                        MinDelta = parse.GetValue(minDelta),
                        Boundary = ParseBoundary(parse.GetValue(boundary)!),
                        Guidance = parse.GetValue(guidance),
                        PreviewSamples = kind.Model == MlpConfig.Kind ? 2000 : 100,
                    });
                    var frozen = FrozenTeacher.Load(teacherPath, device);
                    BootDistiller distiller;
                    try
                    {
                        var range = BootDistiller.TeacherRange(frozen);
                        if (options.SigmaMin < range.Min || options.SigmaMax > range.Max)
                            throw new ArgumentException(DiffusionCli.Inv($"--sigma-min {options.SigmaMin} / --sigma-max {options.SigmaMax}: the σ range must lie within the teacher's [{range.Min}, {range.Max}]"));
                        distiller = BootDistiller.FromTeacher(frozen, options, parse.GetValue(run.Out));
                    }
                    catch
                    {
                        frozen.Dispose();
                        throw;
                    }
                    console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                        $"distilling {teacherPath} into a one-step BOOT {kind.Model} student ({distiller.Student.Module.ParameterCount:N0} parameters; {options.GridPoints}-point {Name(options.Grid)} grid σ {options.SigmaMin}–{options.SigmaMax}, {options.Pairs.ToString().ToLowerInvariant()} pairs, {options.Boundary.ToString().ToLowerInvariant()} boundary, guidance {options.Guidance}) for {options.Steps} steps, batch {options.BatchSize}")));
                    return distiller;
                },
                "--steps, --lr, --checkpoint-every, --log-every, --preview (and --teacher, if the file moved)");
        });
        return cmd;
    }

    private static BootGridKind ParseGrid(string value) => value.ToLowerInvariant() switch
    {
        "karras" => BootGridKind.Karras,
        "log-sigma" or "logsigma" => BootGridKind.LogSigma,
        _ => throw new ArgumentException($"--grid-kind '{value}': expected karras or log-sigma"),
    };

    private static BootPairSampling ParsePairs(string value) => value.ToLowerInvariant() switch
    {
        "uniform" => BootPairSampling.Uniform,
        "stratified" => BootPairSampling.Stratified,
        _ => throw new ArgumentException($"--pairs '{value}': expected uniform or stratified"),
    };

    private static BootBoundary ParseBoundary(string value) => value.ToLowerInvariant() switch
    {
        "hard" => BootBoundary.Hard,
        "soft" => BootBoundary.Soft,
        _ => throw new ArgumentException($"--boundary '{value}': expected hard or soft"),
    };

    private static string Name(BootGridKind grid) => grid == BootGridKind.Karras ? "Karras" : "log-σ";
}
