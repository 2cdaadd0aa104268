using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>Runs a GAN trainer under <see cref="ProgressView"/>, its status line showing the smoothed D and G losses and samples/s.</summary>
internal static class GanProgressView
{
    public static TrainResult Run(IAnsiConsole console, GanTrainer trainer, CancellationToken cancel)
    {
        trainer.OnWarning = ProgressView.Warnings(console);
        double d = double.NaN, g = double.NaN;
        return ProgressView.Run<GanProgress>(console, trainer.Step, trainer.Options.Steps, report => trainer.Run(cancel, report), p =>
        {
            d = ProgressView.Smooth(d, p.DiscriminatorLoss);
            g = ProgressView.Smooth(g, p.GeneratorLoss);
            return (p.Step, DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}  D loss {d:F4}  G loss {g:F4}  {p.SamplesPerSecond:N0} samples/s"),
                p.Eta(trainer.Options.BatchSize));
        });
    }
}
