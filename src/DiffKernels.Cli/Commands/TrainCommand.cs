using System.CommandLine;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train --data SPEC --model NAME --out DIR [--resume]`: EDM teacher training with a progress bar,
/// checkpoints, a JSONL log and previews in DIR. Ctrl-C saves a checkpoint and exits with 130.
/// </summary>
internal static class TrainCommand
{
    // Keys the weight-initialisation stream apart from the trainer's data and noise streams of the same seed.
    private const ulong InitKey = 0xC2B2AE3D27D4EB4FUL;

    public static Command Create()
    {
        var defaults = new TrainerOptions();
        var data = new Option<string>("--data") { Description = $"Training data: {DiffusionCli.DataSpecs} (on --resume: the checkpoint's)" };
        var dataDir = DiffusionCli.FashionDirOption();
        var model = new Option<string?>("--model") { Description = $"Network: {string.Join(", ", ModelFactory.Presets)} (default: mlp for toys, unet-xs for images)" };
        var classes = new Option<int?>("--classes") { Description = "Classes the model is conditioned on (0: unconditional; default: the data's)" };
        var steps = new Option<int>("--steps") { Description = "Total optimiser steps (on --resume: the new total)", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Samples per step", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<float>("--lr") { Description = "Peak Adam learning rate", DefaultValueFactory = _ => defaults.Lr };
        var warmup = new Option<int>("--warmup") { Description = "Learning-rate warm-up steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        var emaHalfLife = new Option<double>("--ema-half-life") { Description = "EMA half-life in training samples", DefaultValueFactory = _ => defaults.EmaHalfLifeImages };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, data and noise", DefaultValueFactory = _ => 0UL };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (0: at the end only)", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var logEvery = new Option<int>("--log-every") { Description = "Steps per JSONL log line", DefaultValueFactory = _ => defaults.LogEvery };
        var preview = new Option<int?>("--preview") { Description = "Samples in the preview PNG written at each checkpoint (0: none; default: 2000 points or 64 images)" };
        var output = new Option<string>("--out") { Description = "Output directory (checkpoint model.safetensors, log.jsonl, previews)", DefaultValueFactory = _ => "runs/train" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out (a training checkpoint: exact resume)" };
        var initFrom = new Option<string?>("--init-from") { Description = "Warm start: a new run from the weights of this release checkpoint (fresh optimiser state, step 0)" };
        var device = DeviceOption.Create();
        var cmd = new Command("train", "Train an EDM teacher")
        {
            data, dataDir, model, classes, steps, batch, lr, warmup, emaHalfLife, seed, checkpointEvery, logEvery, preview, output, resume, initFrom, device,
        };
        Option[] fixedOnResume = [model, classes, batch, lr, warmup, emaHalfLife, seed];
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("train", parseResult.InvocationConfiguration.Error, () =>
            {
                string outDir = parseResult.GetValue(output)!;
                string checkpoint = Path.Combine(outDir, EdmTrainer.CheckpointFile);
                using var on = DeviceOption.Open(parseResult, device);
                EdmTrainer trainer;
                string? warmStart = parseResult.GetValue(initFrom);
                if (parseResult.GetValue(resume))
                {
                    if (warmStart != null) throw new ArgumentException("--resume continues the run in --out and --init-from starts a new one; pass one of them");
                    var given = fixedOnResume.Where(o => parseResult.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                    if (given.Count > 0)
                        throw new ArgumentException($"on --resume the run keeps its settings; only --steps, --checkpoint-every, --log-every and --preview may change (remove {string.Join(", ", given)})");
                    if (!File.Exists(checkpoint)) throw new ArgumentException($"nothing to resume: {checkpoint} does not exist");
                    CheckpointKind.RequireTraining(checkpoint, "dk train --resume", CheckpointKind.EdmMethod);
                    string spec = parseResult.GetValue(data) ?? CheckpointKind.DataSpec(SafeTensors.ReadHeader(checkpoint).Metadata)
                        ?? throw new ArgumentException($"{checkpoint} does not record its data; pass --data");
                    int? total = parseResult.GetResult(steps) is { Implicit: false } ? parseResult.GetValue(steps) : null;
                    T Given<T>(Option<T> o, T current) => parseResult.GetResult(o) is { Implicit: false } ? parseResult.GetValue(o)! : current;
                    trainer = EdmTrainer.Resume(checkpoint, DiffusionCli.ParseData(spec, parseResult.GetValue(dataDir)), total, outDir, on.Device,
                        bookkeeping: o => o with
                        {
                            CheckpointEvery = Given(checkpointEvery, o.CheckpointEvery),
                            LogEvery = Given(logEvery, o.LogEvery),
                            PreviewSamples = Given(preview, (int?)o.PreviewSamples) ?? o.PreviewSamples,
                        });
                    console.MarkupLine(Markup.Escape($"resuming {checkpoint} at step {trainer.Step} of {trainer.Options.Steps}"));
                }
                else
                {
                    if (File.Exists(checkpoint))
                        throw new ArgumentException($"{outDir} already holds a checkpoint; pass --resume to continue it or choose another --out");
                    string spec = parseResult.GetValue(data) ?? throw new ArgumentException("--data is required (e.g. --data toy:8gaussians)");
                    var source = DiffusionCli.ParseData(spec, parseResult.GetValue(dataDir));
                    bool images = source.SampleShape.Rank == 3;
                    string preset = parseResult.GetValue(model) ?? (images ? "unet-xs" : "mlp");
                    int numClasses = parseResult.GetValue(classes) ?? source.NumClasses;
                    if (numClasses != 0 && numClasses != source.NumClasses)
                        throw new ArgumentException($"--classes {numClasses}: {source.Name} has {source.NumClasses} classes (pass 0 for an unconditional model)");
                    var options = new TrainerOptions
                    {
                        Steps = parseResult.GetValue(steps),
                        BatchSize = parseResult.GetValue(batch),
                        Lr = parseResult.GetValue(lr),
                        WarmupSteps = parseResult.GetValue(warmup),
                        EmaHalfLifeImages = parseResult.GetValue(emaHalfLife),
                        Seed = parseResult.GetValue(seed),
                        CheckpointEvery = parseResult.GetValue(checkpointEvery),
                        LogEvery = parseResult.GetValue(logEvery),
                        PreviewSamples = parseResult.GetValue(preview) ?? (images ? 64 : 2000),
                    };
                    options.Validate();
                    if (warmStart != null)
                    {
                        if (parseResult.GetResult(model) is { Implicit: false } || parseResult.GetResult(classes) is { Implicit: false })
                            throw new ArgumentException("--init-from brings its own network; remove --model and --classes");
                        trainer = WarmStart(console, warmStart, source, options, outDir, on.Device);
                    }
                    else
                    {
                        var net = ModelFactory.FromPreset(preset, source.SampleShape, numClasses, new Generator(options.Seed ^ InitKey), on.Device);
                        trainer = new EdmTrainer(net, source, options, outDir);
                        string conditioning = numClasses > 0 ? $", conditioned on {numClasses} classes (label dropout {options.LabelDropout})" : "";
                        console.MarkupLine(Markup.Escape($"training {preset} ({net.ParameterCount:N0} parameters) on {source.Name} for {options.Steps} steps, batch {options.BatchSize}{conditioning}"));
                    }
                }
                using (trainer)
                {
                    using var ctrlC = DiffusionCli.HookCtrlC();
                    var result = TrainingProgressView.Run(console, trainer, ctrlC.Token);
                    if (result.Interrupted)
                    {
                        console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}; continue with: dk train --out {outDir} --resume"));
                        return DiffusionCli.Interrupted;
                    }
                    console.MarkupLine(Markup.Escape($"done: {result.Step} steps ({result.Skipped} skipped); checkpoint {result.CheckpointPath}, log {Path.Combine(outDir, EdmTrainer.LogFile)}"));
                    return 0;
                }
            });
        });
        return cmd;
    }

    /// <summary>
    /// A new run whose raw and EMA weights both start as the release checkpoint's at <paramref name="path"/>, with fresh
    /// Adam state at step 0, the checkpoint's σ_data and sampler defaults; its checkpoints record the source and its hash.
    /// </summary>
    private static EdmTrainer WarmStart(IAnsiConsole console, string path, IDataSource source, TrainerOptions options, string outDir, Device device)
    {
        var kind = CheckpointKind.RequireRelease(path, "dk train --init-from", ModelRole.Teacher);
        string hash = FrozenTeacher.FileSha256(path);
        var loaded = ModelFactory.Load(path, device);
        try
        {
            var net = loaded.Net;
            if (net.SampleShape != source.SampleShape || net.NumClasses is var c && c != 0 && c != source.NumClasses)
                throw new ArgumentException($"--init-from {path} takes samples of shape {net.SampleShape} with {net.NumClasses} classes; {source.Name} has {source.SampleShape} with {source.NumClasses}");
            var trainer = new EdmTrainer(loaded.Model, source, options with { SigmaData = Edm.FromMetadata(loaded.Metadata).SigmaData }, outDir)
            {
                SamplingDefaults = SamplerDefaults.Of(loaded.Metadata),
            };
            RunProvenance.WarmStart(trainer, path, hash);
            console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                $"warm start from {path} ({kind.Description}, SHA-256 {hash[..12]}…): its weights as raw and EMA weights, fresh optimiser state, step 0; training on {source.Name} for {options.Steps} steps, batch {options.BatchSize}")));
            return trainer;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
