using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>Runs a distiller under <see cref="ProgressView"/>, its status line showing the smoothed auxiliary loss, score gap and samples/s.</summary>
internal static class DistillProgressView
{
    public static TrainResult Run(IAnsiConsole console, IDistiller distiller, CancellationToken cancel)
    {
        distiller.OnWarning = ProgressView.Warnings(console);
        double aux = double.NaN, gap = double.NaN;
        return ProgressView.Run<DistillProgress>(console, distiller.Step, distiller.TotalSteps, report => distiller.Run(cancel, report), p =>
        {
            aux = ProgressView.Smooth(aux, p.AuxiliaryLoss);
            gap = ProgressView.Smooth(gap, p.ScoreGap);
            return (p.Step, DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}  aux loss {aux:F4}  score gap {gap:G4}  {p.SamplesPerSecond:N0} samples/s"),
                p.Eta(distiller.BatchSize));
        });
    }
}
