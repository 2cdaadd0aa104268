using System.CommandLine;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
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
        var run = new RunCommand("train", defaults, "Total optimiser steps", "Samples per step", "Samples (default: 2000 points or 64 images)",
            "runs/train", EdmTrainer.CheckpointFile, "checkpoint");
        var data = new DataFlags($"Training data: {DiffusionCli.DataSpecs}");
        var model = new Option<string?>("--model") { Description = $"Network: {string.Join(", ", ModelFactory.Presets)} (default: mlp for toys, unet-xs for images)" };
        var classes = new Option<int?>("--classes") { Description = "Classes the model is conditioned on (0: unconditional; default: the data's)" };
        var lr = new Option<float>("--lr") { Description = "Peak Adam learning rate", DefaultValueFactory = _ => defaults.Lr };
        var warmup = new Option<int>("--warmup") { Description = "Learning-rate warm-up steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        var cmd = run.Create("Train an EDM teacher", data.Data, data.Directory, model, classes, lr, warmup);
        cmd.SetAction(parse => run.Execute(parse, [model, classes, lr, warmup],
            checkpoint => EdmTrainer.Resume(checkpoint, data.ForResume(parse, checkpoint), run.ResumedSteps(parse), parse.GetValue(run.Out),
                bookkeeping: o => run.Bookkeeping(parse, o)),
            console =>
            {
                var source = data.ForNewRun(parse, "toy:8gaussians");
                bool images = source.SampleShape.Rank == 3;
                string preset = parse.GetValue(model) ?? (images ? "unet-xs" : "mlp");
                int numClasses = parse.GetValue(classes) ?? source.NumClasses;
                if (numClasses != 0 && numClasses != source.NumClasses)
                    throw new ArgumentException($"--classes {numClasses}: {source.Name} has {source.NumClasses} classes (pass 0 for an unconditional model)");
                var options = run.NewRun(parse, defaults with
                {
                    Lr = parse.GetValue(lr),
                    WarmupSteps = parse.GetValue(warmup),
                    PreviewSamples = images ? 64 : 2000,
                });
                var net = ModelFactory.FromPreset(preset, source.SampleShape, numClasses, new Generator(options.Seed ^ InitKey));
                var trainer = new EdmTrainer(net, source, options, parse.GetValue(run.Out));
                string conditioning = numClasses > 0 ? $", conditioned on {numClasses} classes (label dropout {options.LabelDropout})" : "";
                console.MarkupLine(Markup.Escape($"training {preset} ({net.ParameterCount:N0} parameters) on {source.Name} for {options.Steps} steps, batch {options.BatchSize}{conditioning}"));
                return trainer;
            }));
        return cmd;
    }
}
