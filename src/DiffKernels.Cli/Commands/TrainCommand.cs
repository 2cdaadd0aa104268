using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train --data SPEC --model NAME --out DIR [--resume | --init-from RELEASE] [--sadm]`: EDM teacher training (with SADM's structure term under --sadm) with a progress bar,
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
        lr.Positive();
        var warmup = new Option<int>("--warmup") { Description = "Learning-rate warm-up steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        warmup.AtLeast(0);
        var initFrom = new Option<string?>("--init-from") { Description = "Warm start: a new run from the weights of this release checkpoint (fresh optimiser state, step 0)" };
        var sadm = new SadmFlags();
        var graph = new Option<bool>("--graph")
        {
            Description = "GPU devices: replay each step's forward and backward from a graph captured at the second step (a CUDA graph on cuda): the same values, one host call instead of hundreds of launches",
        };
        var cmd = run.Create("Train an EDM teacher", [data.Data, data.Directory, model, classes, lr, warmup, initFrom, .. sadm.All, graph]);
        cmd.SetAction(parse => run.Execute(parse, [model, classes, lr, warmup, initFrom, .. sadm.All],
            (checkpoint, device) => Replaying(EdmTrainer.Resume(checkpoint, data.ForResume(parse, checkpoint), run.ResumedSteps(parse), parse.GetValue(run.Out), device,
                bookkeeping: o => run.Bookkeeping(parse, o)), parse.GetValue(graph)),
            (console, device) =>
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
                    Sadm = sadm.Options(parse),
                });
                if (parse.GetValue(initFrom) is { } warmStart)
                {
                    if (RunCommand.Given(parse, model) || RunCommand.Given(parse, classes))
                        throw new ArgumentException("--init-from brings its own network; remove --model and --classes");
                    return Replaying(WarmStart(console, warmStart, source, options, parse.GetValue(run.Out)!, device), parse.GetValue(graph));
                }
                var net = ModelFactory.FromPreset(preset, source.SampleShape, numClasses, new Generator(options.Seed ^ InitKey), device);
                var trainer = Replaying(new EdmTrainer(net, source, options, parse.GetValue(run.Out)), parse.GetValue(graph));
                string conditioning = numClasses > 0 ? $", conditioned on {numClasses} classes (label dropout {options.LabelDropout})" : "";
                console.MarkupLine(Markup.Escape($"training {preset} ({net.ParameterCount:N0} parameters) on {source.Name} for {options.Steps} steps, batch {options.BatchSize}{conditioning}"));
                if (options.Sadm is { } structure) console.MarkupLine(Markup.Escape(SadmFlags.Describe(structure)));
                return trainer;
            }));
        return cmd;
    }

    /// <summary>The trainer, set to replay its steps from a captured graph when <paramref name="graph"/> (--graph) is given.</summary>
    private static EdmTrainer Replaying(EdmTrainer trainer, bool graph)
    {
        try
        {
            trainer.CaptureGraph = graph;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new run whose raw and EMA weights both start as the release checkpoint's at <paramref name="path"/>, with fresh
    /// Adam state at step 0, the checkpoint's σ_data and sampler defaults; its checkpoints record the source and its hash.
    /// (`dk finetune` starts its runs here too.)
    /// </summary>
    internal static EdmTrainer WarmStart(IAnsiConsole console, string path, IDataSource source, TrainerOptions options, string outDir, Device device)
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
            if (options.Sadm is { } sadm) console.MarkupLine(Markup.Escape(SadmFlags.Describe(sadm)));
            return trainer;
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }
}
