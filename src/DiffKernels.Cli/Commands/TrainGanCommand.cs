using System.CommandLine;
using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train-gan --data fmnist --out DIR [--resume | --init-from GENERATOR]`: trains the DCGAN-style generator and discriminator
/// (<see cref="GanConfig.FashionMnist"/> shaped for the data) with the non-saturating logistic loss, with a progress
/// bar, checkpoints (DIR/gan.safetensors, a generator `dk sample` and `dk eval` draw from in one step), a JSONL log
/// and preview grids. Ctrl-C saves a checkpoint and exits with 130.
/// </summary>
internal static class TrainGanCommand
{
    // Keys the weight-initialisation streams apart from the trainer's data and latent streams of the same seed.
    private const ulong GeneratorInitKey = 0xC2B2AE3D27D4EB4FUL;
    private const ulong DiscriminatorInitKey = 0x165667B19E3779F9UL;

    public static Command Create()
    {
        var defaults = new GanOptions();
        var run = new RunCommand("train-gan", defaults, "Iterations: one discriminator and one generator update each", "Real and generated images per update",
            "Images (at most 100)", "runs/gan", GanTrainer.CheckpointFile, "generator", previewLimit: 100);
        var data = new DataFlags("Training images: fmnist, fmnist:N or folder:DIR");
        var classes = new Option<int?>("--classes") { Description = "Classes both networks are conditioned on (0: unconditional; default: the data's)" };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate of the generator", DefaultValueFactory = _ => defaults.GeneratorLr };
        lr.Positive();
        var lrD = new Option<float?>("--lr-d") { Description = "Adam learning rate of the discriminator (default: --lr)" };
        lrD.Positive();
        var beta1 = new Option<float>("--beta1") { Description = "Adam β₁ of both networks, 0 to 0.5 (DCGAN's 0.5, or 0)", DefaultValueFactory = _ => defaults.Beta1 };
        beta1.Within(0, 0.5f);
        var initFrom = new Option<string?>("--init-from") { Description = "Warm start: the generator of this release checkpoint, a fresh discriminator, fresh optimiser state, step 0" };
        var cmd = run.Create("Train a DCGAN-style generator adversarially (non-saturating logistic loss)", data.Data, data.Directory, classes, lr, lrD, beta1, initFrom);
        cmd.SetAction(parse => run.Execute(parse, [classes, lr, lrD, beta1, initFrom],
            (checkpoint, device) => GanTrainer.Resume(checkpoint, data.ForResume(parse, checkpoint), run.ResumedSteps(parse), parse.GetValue(run.Out), device,
                bookkeeping: o => run.Bookkeeping(parse, o)),
            (console, device) =>
            {
                var source = data.ForNewRun(parse, "fmnist");
                if (source.SampleShape.Rank != 3 || source.SampleShape[0] != source.SampleShape[1])
                    throw new ArgumentException($"train-gan takes square images [H, W, C]; {source.Name} has samples of shape {source.SampleShape}");
                int numClasses = parse.GetValue(classes) ?? source.NumClasses;
                if (numClasses != 0 && numClasses != source.NumClasses)
                    throw new ArgumentException($"--classes {numClasses}: {source.Name} has {source.NumClasses} classes (pass 0 for unconditional networks)");
                var options = run.NewRun(parse, defaults with
                {
                    GeneratorLr = parse.GetValue(lr),
                    DiscriminatorLr = parse.GetValue(lrD) ?? parse.GetValue(lr),
                    Beta1 = parse.GetValue(beta1),
                });
                var config = GanConfig.FashionMnist(numClasses) with { ImageSize = source.SampleShape[0], Channels = source.SampleShape[2] };
                string? warmStart = parse.GetValue(initFrom), warmHash = null;
                GanGenerator generator;
                if (warmStart != null)
                {
                    if (RunCommand.Given(parse, classes)) throw new ArgumentException("--init-from brings its own networks' classes; remove --classes");
                    CheckpointKind.RequireRelease(warmStart, "dk train-gan --init-from", ModelRole.GanGenerator);
                    warmHash = FrozenTeacher.FileSha256(warmStart);
                    generator = (GanGenerator)ModelFactory.Load(warmStart, device).Model;
                    config = generator.Config;
                    if (config.ImageSize != source.SampleShape[0] || config.Channels != source.SampleShape[2] || config.NumClasses is var c && c != 0 && c != source.NumClasses)
                    {
                        generator.Dispose();
                        throw new ArgumentException($"--init-from {warmStart} draws {config.ImageSize}×{config.ImageSize}×{config.Channels} images of {config.NumClasses} classes; {source.Name} has samples of shape {source.SampleShape} and {source.NumClasses} classes");
                    }
                }
                else
                {
                    config.Validate();
                    generator = new GanGenerator(config, new Generator(options.Seed ^ GeneratorInitKey), device);
                }
                var discriminator = new GanDiscriminator(config, new Generator(options.Seed ^ DiscriminatorInitKey), device);
                GanTrainer trainer;
                try
                {
                    trainer = new GanTrainer(generator, discriminator, source, options, parse.GetValue(run.Out));
                }
                catch
                {
                    generator.Dispose();
                    discriminator.Dispose();
                    throw;
                }
                if (warmStart != null)
                {
                    RunProvenance.WarmStart(trainer, warmStart, warmHash!);
                    console.MarkupLine(Markup.Escape($"warm start from {warmStart} (SHA-256 {warmHash![..12]}…): its generator as raw and EMA weights, a fresh discriminator, fresh optimiser state, step 0"));
                }
                string conditioning = config.NumClasses > 0 ? $", conditioned on {config.NumClasses} classes" : "";
                console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                    $"training a GAN on {source.Name} (generator {generator.ParameterCount:N0}, discriminator {discriminator.ParameterCount:N0} parameters{conditioning}) for {options.Steps} steps, batch {options.BatchSize}")));
                return trainer;
            }));
        return cmd;
    }
}
