using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// Runs a trainer while showing its progress: a Spectre progress bar (smoothed loss, samples/s, ETA) on an
/// interactive terminal, otherwise one plain line per tenth of the run (logs and redirected output).
/// </summary>
internal static class TrainingProgressView
{
    public static TrainResult Run(IAnsiConsole console, EdmTrainer trainer, CancellationToken cancel)
    {
        trainer.OnWarning = message => console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");
        double smoothed = double.NaN;
        string Describe(TrainProgress p)
        {
            if (float.IsFinite(p.Loss)) smoothed = double.IsNaN(smoothed) ? p.Loss : 0.98 * smoothed + 0.02 * p.Loss;
            return DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}  loss {smoothed:F4}  {p.SamplesPerSecond:N0} samples/s");
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            long every = Math.Max(1, (trainer.Options.Steps - trainer.Step) / 10);
            return trainer.Run(cancel, p =>
            {
                string line = Describe(p);
                if (p.Step % every == 0 || p.Step == p.TotalSteps)
                    console.WriteLine(DiffusionCli.Inv($@"{line}  eta {p.Eta(trainer.Options.BatchSize):hh\:mm\:ss}"));
            });
        }

        TrainResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: trainer.Options.Steps);
                task.Value = trainer.Step;
                var lastDraw = DateTime.MinValue;
                result = trainer.Run(cancel, p =>
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
