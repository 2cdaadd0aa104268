using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// Runs a distiller while showing its progress: a Spectre progress bar (smoothed auxiliary loss and score gap,
/// samples/s, ETA) on an interactive terminal, otherwise one plain line per tenth of the run.
/// </summary>
internal static class DistillProgressView
{
    public static TrainResult Run(IAnsiConsole console, IDistiller distiller, CancellationToken cancel)
    {
        distiller.OnWarning = message => console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
        double aux = double.NaN, gap = double.NaN;
        static double Smooth(double s, double v) => !double.IsFinite(v) ? s : double.IsNaN(s) ? v : 0.98 * s + 0.02 * v;
        string Describe(DistillProgress p)
        {
            aux = Smooth(aux, p.AuxiliaryLoss);
            gap = Smooth(gap, p.ScoreGap);
            return DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}  aux loss {aux:F4}  score gap {gap:G4}  {p.SamplesPerSecond:N0} samples/s");
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            long every = Math.Max(1, (distiller.TotalSteps - distiller.Step) / 10);
            return distiller.Run(cancel, p =>
            {
                string line = Describe(p);
                if (p.Step % every == 0 || p.Step == p.TotalSteps)
                    console.WriteLine(DiffusionCli.Inv($@"{line}  eta {p.Eta(distiller.BatchSize):hh\:mm\:ss}"));
            });
        }

        TrainResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: distiller.TotalSteps);
                task.Value = distiller.Step;
                var lastDraw = DateTime.MinValue;
                result = distiller.Run(cancel, p =>
                {
                    string line = Describe(p);
                    task.Value = p.Step;
                    if (DateTime.UtcNow - lastDraw > TimeSpan.FromMilliseconds(200) || p.Step == p.TotalSteps)
                    {
                        task.Description = Markup.Escape(line);
                        lastDraw = DateTime.UtcNow;
                    }
                });
            });
        return result!;
    }
}
