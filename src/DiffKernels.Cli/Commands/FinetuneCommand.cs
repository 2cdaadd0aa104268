using System.CommandLine;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.IO;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk finetune --teacher RELEASE [--data SPEC] [--classes A-B] [--limit N] [--sadm] --out DIR`: continues a trained
/// teacher on new data (by default the teacher's own data set, optionally a class range and the first N images of it),
/// with or without SADM's structure term. It is a warm start (`dk train --init-from`) with fine-tuning defaults and
/// the subset flags; `--resume` continues it exactly, and `dk export` makes an ordinary teacher of it.
/// </summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var defaults = new TrainerOptions { Steps = 2000, Lr = 1e-4f, WarmupSteps = 100 };
        var run = new RunCommand("finetune", defaults, "Total optimiser steps", "Samples per step", "Samples (default: 2000 points or 64 images)",
            "runs/finetune", EdmTrainer.CheckpointFile, "checkpoint");
        var data = new DataFlags($"Data to fine-tune on (default: the teacher's data set): {DiffusionCli.DataSpecs}");
        var teacher = new Option<string?>("--teacher") { Description = "The teacher to continue: a release checkpoint (dk export makes one)" };
        var classes = new Option<string?>("--classes") { Description = "Only images of these classes, FIRST-LAST (e.g. 5-9); labels and the model's classes stay as they are" };
        var limit = new Option<int?>("--limit") { Description = "Only the first N images (after --classes)" };
        var lr = new Option<float>("--lr") { Description = "Peak Adam learning rate", DefaultValueFactory = _ => defaults.Lr };
        lr.Positive();
        var warmup = new Option<int>("--warmup") { Description = "Learning-rate warm-up steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        warmup.AtLeast(0);
        var sadm = new SadmFlags();
        var cmd = run.Create("Fine-tune a trained teacher on new data, with or without SADM", [teacher, data.Data, data.Directory, classes, limit, lr, warmup, .. sadm.All]);
        cmd.SetAction(parse => run.Execute(parse, [teacher, classes, limit, lr, warmup, .. sadm.All],
            (checkpoint, device) => EdmTrainer.Resume(checkpoint, data.ForResume(parse, checkpoint), run.ResumedSteps(parse), parse.GetValue(run.Out), device,
                bookkeeping: o => run.Bookkeeping(parse, o)),
            (console, device) =>
            {
                string path = parse.GetValue(teacher) ?? throw new ArgumentException("--teacher is required (a release checkpoint of a teacher)");
                CheckpointKind.RequireRelease(path, "dk finetune --teacher", ModelRole.Teacher);
                string spec = parse.GetValue(data.Data)
                    ?? (CheckpointKind.DataSpec(SafeTensors.ReadHeader(path).Metadata) is { } recorded ? ImageSubset.Whole(recorded)
                        : throw new ArgumentException($"--teacher {path} records no data set; pass --data"));
                var source = DiffusionCli.ParseData(spec, parse.GetValue(data.Directory));
                var range = parse.GetValue(classes) is { } text ? ImageSubset.ParseClasses(text, "--classes") : ((int, int)?)null;
                int? count = parse.GetValue(limit);
                if (count is < 1) throw new ArgumentException($"--limit {count} must be ≥ 1");
                if (range != null || count != null) source = ImageSubset.Select(source, range, count);
                var options = run.NewRun(parse, defaults with
                {
                    Lr = parse.GetValue(lr),
                    WarmupSteps = parse.GetValue(warmup),
                    PreviewSamples = source.SampleShape.Rank == 3 ? 64 : 2000,
                    Sadm = sadm.Options(parse),
                });
                if (source is ImageDataSource images && images.Data.Count < options.BatchSize)
                    throw new ArgumentException($"--batch {options.BatchSize} is more than the {images.Data.Count} images of {source.Name}");
                return TrainCommand.WarmStart(console, path, source, options, parse.GetValue(run.Out)!, device);
            }));
        return cmd;
    }
}
