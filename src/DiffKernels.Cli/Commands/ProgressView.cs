using System.Diagnostics;
using DiffKernels.Diffusion.Training;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// The progress display every long-running command shares. Work reports (stage, done, total, status line); on an
/// interactive terminal each stage gets a Spectre progress bar whose description is its status line (redrawn at most
/// every 200 ms), with elapsed and remaining time. When output is redirected (a file or a pipe) there are no bars: a
/// stage prints its status line with the time left at most every <see cref="LineEvery"/>, and always its last line
/// with the time it took. Warnings print as they come.
/// </summary>
internal static class ProgressView
{
    /// <summary>Redirected output gets a progress line at most this often (besides each stage's last line).</summary>
    public static readonly TimeSpan LineEvery = TimeSpan.FromSeconds(30);

    /// <summary>A progress report: the stage (a new name starts a new bar), units done and in all, and the status line.</summary>
    public delegate void Report(string stage, long done, long total, string line);

    /// <summary>Smoothed running value for status lines: non-finite values are skipped, the first one starts it.</summary>
    public static double Smooth(double smoothed, double value) =>
        !double.IsFinite(value) ? smoothed : double.IsNaN(smoothed) ? value : 0.98 * smoothed + 0.02 * value;

    /// <summary>A warning handler that prints each warning on its own line.</summary>
    public static Action<string> Warnings(IAnsiConsole console) =>
        message => console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");

    /// <summary>
    /// Runs <paramref name="run"/> under the progress display, its status line showing the step, each of the run's
    /// values smoothed, and samples/s; an estimate of the remaining iterations prints after the first few
    /// (<see cref="Estimate.OfRun"/>); warnings print as they come.
    /// </summary>
    public static TrainResult Run(IAnsiConsole console, ITrainingRun run, CancellationToken cancel)
    {
        run.OnWarning = Warnings(console);
        double[]? smoothed = null;
        long first = run.Step;
        var estimate = Estimate.OfRun(console, first, run.TotalSteps);
        return Stages(console, report => run.Run(cancel, p =>
        {
            estimate.Iteration(p.Step - first, p.Elapsed);
            smoothed ??= p.Values.Select(_ => double.NaN).ToArray();
            var values = p.Names.Select((name, i) =>
            {
                smoothed[i] = Smooth(smoothed[i], p.Values[i]);
                return DiffusionCli.Inv($"  {name.Replace('_', ' ')} {smoothed[i]:G4}");
            });
            report("run", p.Step, p.TotalSteps, DiffusionCli.Inv($"step {p.Step}/{p.TotalSteps}{string.Concat(values)}  {p.SamplesPerSecond:N0} samples/s"));
        }), first);
    }

    /// <summary>
    /// Runs <paramref name="work"/>, one stage that reports (done, total, status line) as it goes, under the display;
    /// <paramref name="estimate"/>, when given, hears the first report. Returns what the work returns.
    /// </summary>
    public static T Track<T>(IAnsiConsole console, Func<Action<long, long, string>, T> work, Estimate? estimate = null) =>
        Stages(console, report => work((done, total, line) =>
        {
            estimate?.Part(done, total);
            report("", done, total, line);
        }));

    /// <summary>
    /// Runs <paramref name="work"/>, which reports stage by stage, under the display; the first stage starts at
    /// <paramref name="start"/> (a resumed run's step), later ones at 0. Returns what the work returns.
    /// </summary>
    public static T Stages<T>(IAnsiConsole console, Func<Report, T> work, long start = 0) =>
        console.Profile.Capabilities.Interactive ? Bars(console, work, start) : Lines(console, work, start);

    private static T Bars<T>(IAnsiConsole console, Func<Report, T> work, long start)
    {
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                string? stage = null;
                var lastDraw = DateTime.MinValue;
                result = work((name, done, total, line) =>
                {
                    if (task == null || name != stage)
                    {
                        task?.StopTask();
                        task = ctx.AddTask(Markup.Escape(line), maxValue: Math.Max(1, total));
                        task.Value = stage == null ? start : 0;
                        stage = name;
                    }
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

    // Redirected output: plain lines, a stage's line at most every LineEvery with the time left, and its last line always
    // (when it reaches its total, else when the next stage starts or the work returns).
    private static T Lines<T>(IAnsiConsole console, Func<Report, T> work, long start)
    {
        var clock = Stopwatch.StartNew();
        string? stage = null, pending = null;
        TimeSpan began = TimeSpan.Zero, lastLine = TimeSpan.Zero;
        long from = start;
        bool finished = false;
        void Write(string line) => console.WriteLine(line);
        void Flush()
        {
            if (pending != null) Write(DiffusionCli.Inv($"{pending}  (stopped after {Estimate.Duration((clock.Elapsed - began).TotalSeconds)})"));
            pending = null;
        }
        var result = work((name, done, total, line) =>
        {
            var now = clock.Elapsed;
            if (name != stage)
            {
                Flush();
                from = stage == null ? start : 0;
                stage = name;
                began = lastLine = now;
                finished = false;
            }
            if (finished) return;
            if (done >= total)
            {
                Write(DiffusionCli.Inv($"{line}  (took {Estimate.Duration((now - began).TotalSeconds)})"));
                pending = null;
                finished = true;
            }
            else if (now - lastLine >= LineEvery && done > from)
            {
                double left = (now - began).TotalSeconds / (done - from) * (total - done);
                Write(DiffusionCli.Inv($"{line}  (about {Estimate.Duration(left)} left)"));
                pending = null;
                lastLine = now;
            }
            else
            {
                pending = line;
            }
        });
        Flush();
        return result;
    }
}
