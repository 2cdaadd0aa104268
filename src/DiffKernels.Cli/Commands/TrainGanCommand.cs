using System.CommandLine;
using DiffKernels.Diffusion.Training;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Random;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk train-gan --data fmnist --out DIR [--resume]`: trains the DCGAN-style generator and discriminator
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
        var data = new Option<string>("--data") { Description = "Training images: fmnist, fmnist:N or folder:DIR (on --resume: the checkpoint's)" };
        var dataDir = DiffusionCli.FashionDirOption();
        var classes = new Option<int?>("--classes") { Description = "Classes both networks are conditioned on (0: unconditional; default: the data's)" };
        var steps = new Option<int>("--steps") { Description = "Iterations: one discriminator and one generator update each (on --resume: the new total)", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Real and generated images per update", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<float>("--lr") { Description = "Adam learning rate of the generator", DefaultValueFactory = _ => defaults.GeneratorLr };
        var lrD = new Option<float?>("--lr-d") { Description = "Adam learning rate of the discriminator (default: --lr)" };
        var beta1 = new Option<float>("--beta1") { Description = "Adam β₁ of both networks (0.5 or 0)", DefaultValueFactory = _ => defaults.Beta1 };
        var emaHalfLife = new Option<double>("--ema-half-life") { Description = "EMA half-life of the generator in generated images (0: no EMA)", DefaultValueFactory = _ => defaults.EmaHalfLifeSamples ?? 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, data order and latents", DefaultValueFactory = _ => 0UL };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Iterations between checkpoints (0: at the end only)", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var logEvery = new Option<int>("--log-every") { Description = "Iterations per JSONL log line", DefaultValueFactory = _ => defaults.LogEvery };
        var preview = new Option<int>("--preview") { Description = "Images in the preview grid written at each checkpoint (0: none, at most 100)", DefaultValueFactory = _ => defaults.PreviewSamples };
        var output = new Option<string>("--out") { Description = "Output directory (gan.safetensors, log.jsonl, previews)", DefaultValueFactory = _ => "runs/gan" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run saved in --out" };
        var cmd = new Command("train-gan", "Train a DCGAN-style generator adversarially (non-saturating logistic loss)")
        {
            data, dataDir, classes, steps, batch, lr, lrD, beta1, emaHalfLife, seed, checkpointEvery, logEvery, preview, output, resume,
        };
        Option[] fixedOnResume = [classes, batch, lr, lrD, beta1, emaHalfLife, seed];
        cmd.SetAction(parseResult =>
        {
            var console = DiffusionCli.Console(parseResult.InvocationConfiguration.Output);
            return DiffusionCli.Run("train-gan", parseResult.InvocationConfiguration.Error, () =>
            {
                string outDir = parseResult.GetValue(output)!;
                string checkpoint = Path.Combine(outDir, GanTrainer.CheckpointFile);
                GanTrainer trainer;
                if (parseResult.GetValue(resume))
                {
                    var given = fixedOnResume.Where(o => parseResult.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                    if (given.Count > 0)
                        throw new ArgumentException($"on --resume the run keeps its settings; only --steps, --checkpoint-every, --log-every and --preview may change (remove {string.Join(", ", given)})");
                    if (!File.Exists(checkpoint)) throw new ArgumentException($"nothing to resume: {checkpoint} does not exist");
                    string spec = parseResult.GetValue(data) ?? SafeTensors.ReadHeader(checkpoint).Metadata.GetValueOrDefault(GanTrainer.DataKey)
                        ?? throw new ArgumentException($"{checkpoint} does not record its data; pass --data");
                    int? total = parseResult.GetResult(steps) is { Implicit: false } ? parseResult.GetValue(steps) : null;
                    T Given<T>(Option<T> o, T current) => parseResult.GetResult(o) is { Implicit: false } ? parseResult.GetValue(o)! : current;
                    trainer = GanTrainer.Resume(checkpoint, DiffusionCli.ParseData(spec, parseResult.GetValue(dataDir)), total, outDir,
                        bookkeeping: o => o with
                        {
                            CheckpointEvery = Given(checkpointEvery, o.CheckpointEvery),
                            LogEvery = Given(logEvery, o.LogEvery),
                            PreviewSamples = Given(preview, o.PreviewSamples),
                        });
                    console.MarkupLine(Markup.Escape($"resuming {checkpoint} at step {trainer.Step} of {trainer.Options.Steps}"));
                }
                else
                {
                    if (File.Exists(checkpoint))
                        throw new ArgumentException($"{outDir} already holds a checkpoint; pass --resume to continue it or choose another --out");
                    string spec = parseResult.GetValue(data) ?? throw new ArgumentException("--data is required (e.g. --data fmnist)");
                    var source = DiffusionCli.ParseData(spec, parseResult.GetValue(dataDir));
                    if (source.SampleShape.Rank != 3 || source.SampleShape[0] != source.SampleShape[1])
                        throw new ArgumentException($"train-gan takes square images [H, W, C]; {source.Name} has samples of shape {source.SampleShape}");
                    int numClasses = parseResult.GetValue(classes) ?? source.NumClasses;
                    if (numClasses != 0 && numClasses != source.NumClasses)
                        throw new ArgumentException($"--classes {numClasses}: {source.Name} has {source.NumClasses} classes (pass 0 for unconditional networks)");
                    double halfLife = parseResult.GetValue(emaHalfLife);
                    if (halfLife < 0) throw new ArgumentException($"--ema-half-life {halfLife} must be ≥ 0 (0: no EMA)");
                    var options = new GanOptions
                    {
                        Steps = parseResult.GetValue(steps),
                        BatchSize = parseResult.GetValue(batch),
                        GeneratorLr = parseResult.GetValue(lr),
                        DiscriminatorLr = parseResult.GetValue(lrD) ?? parseResult.GetValue(lr),
                        Beta1 = parseResult.GetValue(beta1),
                        EmaHalfLifeSamples = halfLife > 0 ? halfLife : null,
                        Seed = parseResult.GetValue(seed),
                        CheckpointEvery = parseResult.GetValue(checkpointEvery),
                        LogEvery = parseResult.GetValue(logEvery),
                        PreviewSamples = parseResult.GetValue(preview),
                    };
                    options.Validate();
                    var config = GanConfig.FashionMnist(numClasses) with { ImageSize = source.SampleShape[0], Channels = source.SampleShape[2] };
                    config.Validate();
                    var generator = new GanGenerator(config, new Generator(options.Seed ^ GeneratorInitKey));
                    var discriminator = new GanDiscriminator(config, new Generator(options.Seed ^ DiscriminatorInitKey));
                    try
                    {
                        trainer = new GanTrainer(generator, discriminator, source, options, outDir);
                    }
                    catch
                    {
                        generator.Dispose();
                        discriminator.Dispose();
                        throw;
                    }
                    string conditioning = numClasses > 0 ? $", conditioned on {numClasses} classes" : "";
                    console.MarkupLine(Markup.Escape(DiffusionCli.Inv(
                        $"training a GAN on {source.Name} (generator {generator.ParameterCount:N0}, discriminator {discriminator.ParameterCount:N0} parameters{conditioning}) for {options.Steps} steps, batch {options.BatchSize}")));
                }
                using (trainer)
                {
                    using var ctrlC = DiffusionCli.HookCtrlC();
                    var result = GanProgressView.Run(console, trainer, ctrlC.Token);
                    if (result.Interrupted)
                    {
                        console.MarkupLine(Markup.Escape($"interrupted at step {result.Step}; checkpoint saved to {result.CheckpointPath}; continue with: dk train-gan --out {outDir} --resume"));
                        return DiffusionCli.Interrupted;
                    }
                    console.MarkupLine(Markup.Escape($"done: {result.Step} steps ({result.Skipped} updates skipped); generator {result.CheckpointPath}, log {Path.Combine(outDir, GanTrainer.LogFile)}"));
                    return 0;
                }
            });
        });
        return cmd;
    }
}
