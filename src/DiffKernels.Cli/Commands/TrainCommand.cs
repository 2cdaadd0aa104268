using System.CommandLine;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;
using DiffKernels.Random;
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
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out" };
        var device = DeviceOption.Create();
        var cmd = new Command("train", "Train an EDM teacher")
        {
            data, dataDir, model, classes, steps, batch, lr, warmup, emaHalfLife, seed, checkpointEvery, logEvery, preview, output, resume, device,
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
                if (parseResult.GetValue(resume))
                {
                    var given = fixedOnResume.Where(o => parseResult.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                    if (given.Count > 0)
                        throw new ArgumentException($"on --resume the run keeps its settings; only --steps, --checkpoint-every, --log-every and --preview may change (remove {string.Join(", ", given)})");
                    if (!File.Exists(checkpoint)) throw new ArgumentException($"nothing to resume: {checkpoint} does not exist");
                    string spec = parseResult.GetValue(data) ?? SafeTensors.ReadHeader(checkpoint).Metadata.GetValueOrDefault("train.data")
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
                    var net = ModelFactory.FromPreset(preset, source.SampleShape, numClasses, new Generator(options.Seed ^ InitKey), on.Device);
                    trainer = new EdmTrainer(net, source, options, outDir);
                    string conditioning = numClasses > 0 ? $", conditioned on {numClasses} classes (label dropout {options.LabelDropout})" : "";
                    console.MarkupLine(Markup.Escape($"training {preset} ({net.ParameterCount:N0} parameters) on {source.Name} for {options.Steps} steps, batch {options.BatchSize}{conditioning}"));
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
}
