using System.CommandLine;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk distill diff-instruct --teacher T.safetensors [--generator G.safetensors] --out DIR [--resume]`: data-free one-step distillation by
/// Integral KL (or, with --generator, refinement of a pretrained generator such as a GAN's), with a progress bar,
/// checkpoints (DIR/student.safetensors, a model `dk sample` and `dk eval` load as a one-step sampler or as the
/// generator it refines), a JSONL log and previews. Ctrl-C saves a checkpoint and exits with 130.
/// </summary>
internal static class DistillDiffInstructCommand
{
    public static Command Create()
    {
        var defaults = new DiffInstructOptions();
        var run = new RunCommand("distill diff-instruct", defaults, "Iterations: one auxiliary and one generator update each", "Generator samples per update",
            "Samples (default: 2000)", "runs/diff-instruct", DiffInstructDistiller.CheckpointFile, "student");
        var teacher = new Option<string?>("--teacher") { Description = "The teacher checkpoint (on --resume: default the recorded one; it must be the same file)" };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate of the generator (images: 1e-5 at batch 128; on --resume: the rate from here on)", DefaultValueFactory = _ => defaults.GeneratorLr };
        lr.Positive();
        var lrAux = new Option<float?>("--lr-aux") { Description = "Adam learning rate of the auxiliary denoiser (default: --lr; on --resume: the rate from here on, unchanged when not given)" };
        lrAux.Positive();
        var generatorPath = new Option<string?>("--generator") { Description = "Refine this generator checkpoint (e.g. from dk train-gan) instead of a one-step copy of the teacher" };
        var sigmaInit = new Option<double>("--sigma-init") { Description = "Noise level the one-step generator denoises from, at training and sampling", DefaultValueFactory = _ => OneStepGenerator.DefaultSigmaInit };
        // The saved student samples on a grid from σ_init down to the teacher's σ_min, so σ_init must lie above it.
        sigmaInit.Above(new SamplerOptions().SigmaMin, "the teacher's σ_min, where the student's one-step grid ends");
        var cmd = run.Create("Diff-Instruct: distil a teacher into a one-step generator by Integral KL (data-free)", teacher, generatorPath, lr, lrAux, sigmaInit);
        cmd.SetAction(parse =>
        {
            string? TeacherPath() => parse.GetValue(teacher) is { } path && !File.Exists(path) ? throw new ArgumentException($"teacher {path} does not exist") : parse.GetValue(teacher);
            return run.Execute(parse, [generatorPath, sigmaInit],
                (checkpoint, device) =>
                {
                    var frozen = TeacherPath() is { } path ? FrozenTeacher.Load(path, device) : null;
                    try
                    {
                        return DiffInstructDistiller.Resume(checkpoint, frozen, run.ResumedSteps(parse), parse.GetValue(run.Out), device, changes: o => run.Bookkeeping(parse, o) with
                        {
                            GeneratorLr = RunCommand.Given(parse, lr) ? parse.GetValue(lr) : o.GeneratorLr,
                            AuxiliaryLr = parse.GetValue(lrAux) ?? o.AuxiliaryLr,
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
                    string teacherPath = TeacherPath() ?? throw new ArgumentException("--teacher is required (a model checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                    var options = run.NewRun(parse, defaults with
                    {
                        GeneratorLr = parse.GetValue(lr),
                        AuxiliaryLr = parse.GetValue(lrAux) ?? parse.GetValue(lr),
                        PreviewSamples = 2000,
                    });
                    string? refine = parse.GetValue(generatorPath);
                    if (refine != null && !File.Exists(refine)) throw new ArgumentException($"generator {refine} does not exist");
                    if (refine != null && RunCommand.Given(parse, sigmaInit))
                        throw new ArgumentException("--sigma-init applies to the one-step student built from the teacher, not to a --generator");
                    var frozen = FrozenTeacher.Load(teacherPath, device);
                    DiffInstructDistiller distiller;
                    try
                    {
                        distiller = refine != null
                            ? DiffInstructDistiller.FromGenerator(frozen, refine, options, parse.GetValue(run.Out))
                            : DiffInstructDistiller.FromTeacher(frozen, options, parse.GetValue(sigmaInit), parse.GetValue(run.Out));
                    }
                    catch
                    {
                        frozen.Dispose();
                        throw;
                    }
                    var (kind, _) = ModelFactory.Describe(distiller.Generator.Module);
                    console.MarkupLine(Markup.Escape(refine != null
                        ? DiffusionCli.Inv($"refining the {kind} generator {refine} ({distiller.Generator.Module.ParameterCount:N0} parameters) with {teacherPath} for {options.Steps} steps, batch {options.BatchSize}")
                        : DiffusionCli.Inv($"distilling {teacherPath} into a one-step {kind} student ({distiller.Generator.Module.ParameterCount:N0} parameters, σ_init {parse.GetValue(sigmaInit)}) for {options.Steps} steps, batch {options.BatchSize}")));
                    return distiller;
                },
                "--steps, --lr, --lr-aux, --checkpoint-every, --log-every, --preview (and --teacher, if the file moved)");
        });
        return cmd;
    }
}
