using System.CommandLine;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Distillation.DiffInstruct;
using DiffKernels.Diffusion.Models;
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
        var teacher = new Option<string?>("--teacher") { Description = "The teacher checkpoint (on --resume: default the recorded one; it must be the same file)" };
        var steps = new Option<int>("--steps") { Description = "Iterations: one auxiliary and one generator update each (on --resume: the new total)", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Generator samples per update", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate of the generator (images: 1e-5 at batch 128; on --resume: the rate from here on)", DefaultValueFactory = _ => defaults.GeneratorLr };
        var lrAux = new Option<float?>("--lr-aux") { Description = "Adam learning rate of the auxiliary denoiser (default: --lr; on --resume: the rate from here on, unchanged when not given)" };
        var generatorPath = new Option<string?>("--generator") { Description = "Refine this generator checkpoint (e.g. from dk train-gan) instead of a one-step copy of the teacher" };
        var sigmaInit = new Option<double>("--sigma-init") { Description = "Noise level the one-step generator denoises from, at training and sampling", DefaultValueFactory = _ => OneStepGenerator.DefaultSigmaInit };
        var emaHalfLife = new Option<double>("--ema-half-life") { Description = "EMA half-life of the generator in generated samples", DefaultValueFactory = _ => defaults.EmaHalfLifeSamples };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latents, noise levels and noise", DefaultValueFactory = _ => 0UL };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints (0: at the end only)", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var logEvery = new Option<int>("--log-every") { Description = "Iterations per JSONL log line", DefaultValueFactory = _ => defaults.LogEvery };
        var preview = new Option<int>("--preview") { Description = "Samples in the preview PNG written at each checkpoint (0: none)", DefaultValueFactory = _ => 2000 };
        var output = new Option<string>("--out") { Description = "Output directory (student.safetensors, log.jsonl, previews)", DefaultValueFactory = _ => "runs/diff-instruct" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out" };
        var device = DeviceOption.Create();
        var cmd = new Command("diff-instruct", "Diff-Instruct: distil a teacher into a one-step generator by Integral KL (data-free)")
        {
            teacher, generatorPath, steps, batch, lr, lrAux, sigmaInit, emaHalfLife, seed, checkpointEvery, logEvery, preview, output, resume, device,
        };
        Option[] fixedOnResume = [generatorPath, batch, sigmaInit, emaHalfLife, seed];
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("distill diff-instruct", parseResult.InvocationConfiguration.Error, () =>
            {
                string outDir = parseResult.GetValue(output)!;
                string checkpoint = Path.Combine(outDir, DiffInstructDistiller.CheckpointFile);
                string? teacherPath = parseResult.GetValue(teacher);
                if (teacherPath != null && !File.Exists(teacherPath)) throw new ArgumentException($"teacher {teacherPath} does not exist");
                using var on = DeviceOption.Open(parseResult, device);
                DiffInstructDistiller distiller;
                bool Given(Option o) => parseResult.GetResult(o) is { Implicit: false };
                if (parseResult.GetValue(resume))
                {
                    var given = fixedOnResume.Where(o => parseResult.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                    if (given.Count > 0)
                        throw new ArgumentException($"on --resume the run keeps its settings; only --steps, --lr, --lr-aux, --checkpoint-every, --log-every, --preview (and --teacher, if the file moved) may change (remove {string.Join(", ", given)})");
                    if (!File.Exists(checkpoint)) throw new ArgumentException($"nothing to resume: {checkpoint} does not exist");
                    int? total = parseResult.GetResult(steps) is { Implicit: false } ? parseResult.GetValue(steps) : null;
                    var frozen = teacherPath == null ? null : FrozenTeacher.Load(teacherPath, on.Device);
                    try
                    {
                        distiller = DiffInstructDistiller.Resume(checkpoint, frozen, total, outDir, on.Device, changes: o => o with
                        {
                            GeneratorLr = Given(lr) ? parseResult.GetValue(lr) : o.GeneratorLr,
                            AuxiliaryLr = Given(lrAux) ? parseResult.GetValue(lrAux)!.Value : o.AuxiliaryLr,
                            CheckpointEvery = Given(checkpointEvery) ? parseResult.GetValue(checkpointEvery) : o.CheckpointEvery,
                            LogEvery = Given(logEvery) ? parseResult.GetValue(logEvery) : o.LogEvery,
                            PreviewSamples = Given(preview) ? parseResult.GetValue(preview) : o.PreviewSamples,
                        });
                    }
                    catch
                    {
                        frozen?.Dispose();
                        throw;
                    }
                    console.MarkupLine(Markup.Escape($"resuming {checkpoint} at step {distiller.Step} of {distiller.TotalSteps}"));
                }
                else
                {
                    if (File.Exists(checkpoint))
                        throw new ArgumentException($"{outDir} already holds a checkpoint; pass --resume to continue it or choose another --out");
                    if (teacherPath == null) throw new ArgumentException("--teacher is required (a model checkpoint such as models/toy-8gaussians-teacher.safetensors)");
                    var options = new DiffInstructOptions
                    {
                        Steps = parseResult.GetValue(steps),
                        BatchSize = parseResult.GetValue(batch),
                        GeneratorLr = parseResult.GetValue(lr),
                        AuxiliaryLr = parseResult.GetValue(lrAux) ?? parseResult.GetValue(lr),
                        EmaHalfLifeSamples = parseResult.GetValue(emaHalfLife),
                        Seed = parseResult.GetValue(seed),
                        CheckpointEvery = parseResult.GetValue(checkpointEvery),
                        LogEvery = parseResult.GetValue(logEvery),
                        PreviewSamples = parseResult.GetValue(preview),
                    };
                    options.Validate();
                    string? refine = parseResult.GetValue(generatorPath);
                    if (refine != null && !File.Exists(refine)) throw new ArgumentException($"generator {refine} does not exist");
                    if (refine != null && parseResult.GetResult(sigmaInit) is { Implicit: false })
                        throw new ArgumentException("--sigma-init applies to the one-step student built from the teacher, not to a --generator");
                    var frozen = FrozenTeacher.Load(teacherPath, on.Device);
                    try
                    {
                        distiller = refine != null
                            ? DiffInstructDistiller.FromGenerator(frozen, refine, options, outDir)
                            : DiffInstructDistiller.FromTeacher(frozen, options, parseResult.GetValue(sigmaInit), outDir);
                    }
                    catch
                    {
                        frozen.Dispose();
                        throw;
                    }
                    var (kind, _) = ModelFactory.Describe(distiller.Generator.Module);
                    console.MarkupLine(Markup.Escape(refine != null
                        ? DiffusionCli.Inv($"refining the {kind} generator {refine} ({distiller.Generator.Module.ParameterCount:N0} parameters) with {teacherPath} for {options.Steps} steps, batch {options.BatchSize}")
                        : DiffusionCli.Inv($"distilling {teacherPath} into a one-step {kind} student ({distiller.Generator.Module.ParameterCount:N0} parameters, σ_init {parseResult.GetValue(sigmaInit)}) for {options.Steps} steps, batch {options.BatchSize}")));
                }
                using (distiller)
                {
                    using var ctrlC = DiffusionCli.HookCtrlC();
                    var result = DistillProgressView.Run(console, distiller, ctrlC.Token);
                    if (result.Interrupted)
                    {
                        console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}; continue with: dk distill diff-instruct --out {outDir} --resume"));
                        return DiffusionCli.Interrupted;
                    }
                    console.MarkupLine(Markup.Escape($"done: {result.Step} steps ({result.Skipped} updates skipped); student {result.CheckpointPath}, log {Path.Combine(outDir, DiffInstructDistiller.LogFile)}"));
                    return 0;
                }
            });
        });
        return cmd;
    }
}
