using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>Runs an EDM trainer under <see cref="ProgressView"/>, its status line showing the smoothed loss and samples/s.</summary>
internal static class TrainingProgressView
{
    public static TrainResult Run(IAnsiConsole console, EdmTrainer trainer, CancellationToken cancel)
    {
        trainer.OnWarning = ProgressView.Warnings(console);
        double loss = double.NaN;
        return ProgressView.Run<TrainProgress>(console, trainer.Step, trainer.Options.Steps, report => trainer.Run(cancel, report), p =>
        {
            loss = ProgressView.Smooth(loss, p.Loss);
            return (p.Step, DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}  loss {loss:F4}  {p.SamplesPerSecond:N0} samples/s"),
                p.Eta(trainer.Options.BatchSize));
        });
    }
}
