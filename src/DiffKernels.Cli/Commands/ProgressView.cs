using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The progress display every long-running command shares: a Spectre progress bar whose description is the work's
/// own status line (redrawn at most every 200 ms), with elapsed and remaining time, on an interactive terminal. When
/// output is redirected, a training run prints that line with an ETA once per tenth of the run (its log), other work
/// (<see cref="Track"/>) stays quiet and leaves its closing line to the verb. Warnings print as they come.
/// </summary>
internal static class ProgressView
{
    /// <summary>Smoothed running value for status lines: non-finite values are skipped, the first one starts it.</summary>
    public static double Smooth(double smoothed, double value) =>
        !double.IsFinite(value) ? smoothed : double.IsNaN(smoothed) ? value : 0.98 * smoothed + 0.02 * value;

    /// <summary>A warning handler that prints each warning on its own line.</summary>
    public static Action<string> Warnings(IAnsiConsole console) =>
        message => console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");

    /// <summary>
    /// Runs <paramref name="run"/> under the progress display, its status line showing the step, each of the run's
    /// values smoothed, and samples/s; warnings print as they come.
    /// </summary>
    public static TrainResult Run(IAnsiConsole console, ITrainingRun run, CancellationToken cancel)
    {
        run.OnWarning = Warnings(console);
        double[]? smoothed = null;
        return Run<RunProgress>(console, run.Step, run.TotalSteps, report => run.Run(cancel, report), p =>
        {
            smoothed ??= p.Values.Select(_ => double.NaN).ToArray();
            var values = p.Names.Select((name, i) =>
            {
                smoothed[i] = Smooth(smoothed[i], p.Values[i]);
                return DiffusionCli.Inv($"  {name.Replace('_', ' ')} {smoothed[i]:G4}");
            });
            return (p.Step, DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}{string.Concat(values)}  {p.SamplesPerSecond:N0} samples/s"), p.Eta());
        });
    }

    /// <summary>
    /// Calls <paramref name="run"/> with a progress callback that shows <paramref name="describe"/>'s line for each
    /// report; <paramref name="step"/> and <paramref name="totalSteps"/> are where the run starts and ends.
    /// </summary>
    public static TrainResult Run<TProgress>(IAnsiConsole console, long step, long totalSteps,
        Func<Action<TProgress>, TrainResult> run, Func<TProgress, (long Step, string Line, TimeSpan Eta)> describe)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            long every = Math.Max(1, (totalSteps - step) / 10);
            return run(p =>
            {
                var (at, line, eta) = describe(p);
                if (at % every == 0 || at == totalSteps)
                    console.WriteLine(DiffusionCli.Inv($@"{line}  eta {eta:hh\:mm\:ss}"));
            });
        }

        TrainResult? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: totalSteps);
                task.Value = step;
                var lastDraw = DateTime.MinValue;
                result = run(p =>
                {
                    var (at, line, _) = describe(p);
                    task.Value = at;
                    if (DateTime.UtcNow - lastDraw > TimeSpan.FromMilliseconds(200) || at == totalSteps)
                    {
                        task.Description = Markup.Escape(line);
                        lastDraw = DateTime.UtcNow;
                    }
                });
            });
        return result!;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which reports (done, total, status line) as it goes, under a progress bar with its
    /// remaining time on an interactive terminal; silent otherwise. Returns what the work returns.
    /// </summary>
    public static T Track<T>(IAnsiConsole console, Func<Action<long, long, string>, T> work)
    {
        if (!console.Profile.Capabilities.Interactive) return work((_, _, _) => { });
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("starting", maxValue: 1);
                var lastDraw = DateTime.MinValue;
                result = work((done, total, line) =>
                {
                    task.MaxValue = Math.Max(1, total);
                    task.Value = done;
                    if (DateTime.UtcNow - lastDraw > TimeSpan.FromMilliseconds(200) || done >= total)
                    {
                        task.Description = Markup.Escape(line);
                        lastDraw = DateTime.UtcNow;
                    }
                });
            });
        return result;
    }
}
