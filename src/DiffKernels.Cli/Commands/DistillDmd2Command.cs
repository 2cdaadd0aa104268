using System.CommandLine;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.Dmd2;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk distill dmd2 --teacher T.safetensors --out DIR [--steps-k K] [--resume]`: data-free distribution-matching
/// distillation into a one- or K-step student, with a progress bar, checkpoints (DIR/student.safetensors, a model
/// `dk sample` and `dk eval` load with the levels it was trained on), a JSONL log and previews. Ctrl-C saves a checkpoint
/// and exits with 130.
/// </summary>
internal static class DistillDmd2Command
{
    public static Command Create()
    {
        var defaults = new Dmd2Options();
        var run = new RunCommand("distill dmd2", defaults, "Iterations: one fake-denoiser update each, and a student update every --fake-updates", "Student samples per update",
            "Samples (default: 2000)", "runs/dmd2", Dmd2Distiller.CheckpointFile, "student");
        var teacher = new Option<string?>("--teacher") { Description = "The teacher checkpoint (on --resume: default the recorded one; it must be the same file)" };
        var stepsK = new Option<int>("--steps-k") { Description = "Student steps K: levels at grid indices ⌊i·N/K⌋ of the N-point Karras grid (4 → the reference's 999/749/499/249)", DefaultValueFactory = _ => defaults.StudentSteps };
        stepsK.AtLeast(1);
        var fakeUpdates = new Option<int>("--fake-updates") { Description = "Fake-denoiser updates per student update (two-time-scale rule)", DefaultValueFactory = _ => defaults.FakeUpdatesPerGeneratorUpdate };
        fakeUpdates.AtLeast(1);
        var lr = new Option<float>("--lr") { Description = "AdamW learning rate of the student (on --resume: the rate from here on)", DefaultValueFactory = _ => defaults.GeneratorLr };
        lr.Positive();
        var lrFake = new Option<float?>("--lr-fake") { Description = "AdamW learning rate of the fake denoiser (default: --lr; on --resume: the rate from here on, unchanged when not given)" };
        lrFake.Positive();
        var clip = new Option<float>("--clip") { Description = "Global gradient-norm clip of both updates", DefaultValueFactory = _ => defaults.GradClip!.Value };
        clip.Positive();
        var grid = new Option<int>("--grid") { Description = "Points N of the Karras σ grid", DefaultValueFactory = _ => defaults.GridPoints };
        grid.AtLeast(2);
        var gan = new Option<bool>("--gan") { Description = "Add the GAN head on the fake denoiser's bottleneck (needs --data, the teacher's data; off: data-free)" };
        var data = new DataFlags("Real data of the GAN head (the teacher's: toy:NAME, fmnist, …)");
        var cmd = run.Create("DMD2: distil a teacher into a one- or K-step student by distribution matching (data-free unless --gan)", teacher, stepsK, fakeUpdates, lr, lrFake, clip, grid, gan, data.Data, data.Directory);
        cmd.Together(r => r.Value(run.Resume) || r.Value(stepsK) <= r.Value(grid) ? null
            : $"{r.Quote(stepsK)} cannot be taken from {r.Quote(grid)}: the K student levels are distinct points of the N-point σ grid, so K ≤ N");
        cmd.SetAction(parse =>
        {
            string? TeacherPath() => parse.GetValue(teacher) is { } path && !File.Exists(path) ? throw new ArgumentException($"teacher {path} does not exist") : parse.GetValue(teacher);
            return run.Execute(parse, [stepsK, fakeUpdates, clip, grid, gan],
                (checkpoint, device) =>
                {
                    var frozen = TeacherPath() is { } path ? FrozenTeacher.Load(path, device) : null;
                    try
                    {
                        return Dmd2Distiller.Resume(checkpoint, frozen, run.ResumedSteps(parse), parse.GetValue(run.Out), device, changes: o => run.Bookkeeping(parse, o) with
                        {
                            GeneratorLr = RunCommand.Given(parse, lr) ? parse.GetValue(lr) : o.GeneratorLr,
                            FakeLr = parse.GetValue(lrFake) ?? o.FakeLr,
                        }, data: RecordsGan(checkpoint) ? data.ForResume(parse, checkpoint) : null);
                    }
                    catch
                    {
                        frozen?.Dispose();
                        throw;
                    }
                },
                (console, device) =>
                {
                    string teacherPath = TeacherPath() ?? throw new ArgumentException("--teacher is required (a model checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                    bool withGan = parse.GetValue(gan);
                    if (withGan && parse.GetValue(data.Data) == null)
                        throw new ArgumentException("--gan needs real data: pass --data with the teacher's data (e.g. --data toy:8gaussians or --data fmnist); without --gan DMD2 is data-free");
                    if (!withGan && parse.GetValue(data.Data) != null)
                        throw new ArgumentException("--data is read only by the GAN head; add --gan or drop --data (DMD2 alone is data-free)");
                    var options = run.NewRun(parse, defaults with
                    {
                        StudentSteps = parse.GetValue(stepsK),
                        FakeUpdatesPerGeneratorUpdate = parse.GetValue(fakeUpdates),
                        GeneratorLr = parse.GetValue(lr),
                        FakeLr = parse.GetValue(lrFake) ?? parse.GetValue(lr),
                        GradClip = parse.GetValue(clip),
                        GridPoints = parse.GetValue(grid),
                        Gan = withGan,
                        PreviewSamples = 2000,
                    });
                    var source = withGan ? data.ForNewRun(parse, "toy:8gaussians") : null;
                    var frozen = FrozenTeacher.Load(teacherPath, device);
                    Dmd2Distiller distiller;
                    try
                    {
                        distiller = Dmd2Distiller.FromTeacher(frozen, options, parse.GetValue(run.Out), source);
                    }
                    catch
                    {
                        frozen.Dispose();
                        throw;
                    }
                    var (kind, _) = ModelFactory.Describe(distiller.Student.Module);
                    console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                        $"distilling {teacherPath} into a {options.StudentSteps}-step {kind} student ({distiller.Student.Module.ParameterCount:N0} parameters, σ levels {SamplerDefaults.FormatSigmas(distiller.Student.Levels)}) for {options.Steps} steps, batch {options.BatchSize}{(withGan ? $", GAN head on {source!.Name}" : "")}")));
                    return distiller;
                },
                "--steps, --lr, --lr-fake, --checkpoint-every, --log-every, --preview (and --teacher, if the file moved)");
        });
        return cmd;
    }

    // Only a run with the GAN head reads data on resume; a data-free run needs none recorded.
    private static bool RecordsGan(string checkpoint) =>
        SafeTensors.ReadHeader(checkpoint).Metadata.TryGetValue(CheckpointKeys.Options, out var json) && Dmd2Options.FromJson(json).Gan;
}
