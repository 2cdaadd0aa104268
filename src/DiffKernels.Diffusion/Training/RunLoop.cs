using System.Diagnostics;
using System.Globalization;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The intervals <see cref="RunLoop"/> works to: total iterations, batch and how often to log, save and preview, and
/// how often to measure (0: never).
/// </summary>
public readonly record struct RunSchedule(long Steps, int BatchSize, int LogEvery, int CheckpointEvery, int PreviewSamples, int MeasureEvery = 0);

/// <summary>
/// The loop every trainer and distiller shares: on cancellation save and stop; otherwise iterate, report progress,
/// log the interval's means every <see cref="RunSchedule.LogEvery"/> iterations (and at the last), measure every
/// <see cref="RunSchedule.MeasureEvery"/> (and at the last), checkpoint every <see cref="RunSchedule.CheckpointEvery"/> and
/// once more at the end unless the last iteration just saved.
/// </summary>
public static class RunLoop
{
    /// <summary>The log file every run keeps in its output directory.</summary>
    public const string LogFile = "log.jsonl";

    /// <summary>
    /// Runs <paramref name="run"/> until <see cref="RunSchedule.Steps"/>. <paramref name="iterate"/> performs one
    /// iteration (advancing the run's step) and returns its values; a non-finite value (a skipped update) stays out of
    /// the interval's mean. <paramref name="progress"/> sees each iteration's values, the samples per second over the
    /// interval and the session's time; <paramref name="logLine"/> turns the interval's means (null where none
    /// counted) and the same two figures into a log line's named values. <paramref name="measure"/> (with a log: a run
    /// that writes files) runs after the log line of a step it is due at and before that step's checkpoint, so a resume
    /// from the checkpoint never measures a step twice or misses one; its time counts in no interval's throughput.
    /// </summary>
    public static TrainResult Run(ITrainingRun run, RunSchedule schedule, CancellationToken cancel,
        Func<RunLog?, double[]> iterate,
        Action<double[], double, TimeSpan>? progress,
        Func<double?[], double, TimeSpan, IEnumerable<(string Name, double? Value)>> logLine,
        Action<RunLog>? measure = null)
    {
        using var log = run.OutDir == null ? null : new RunLog(Path.Combine(run.OutDir, LogFile), run.Step);
        var session = Stopwatch.StartNew();
        var interval = Stopwatch.StartNew();
        double[]? sums = null;
        int[]? counts = null;
        double samplesPerSecond = 0;
        int intervalSteps = 0;
        long savedAt = -1;
        while (run.Step < schedule.Steps)
        {
            if (cancel.IsCancellationRequested)
            {
                Save(run, schedule);
                return new TrainResult(run.Step, true, run.CheckpointPath, run.Skipped);
            }
            var values = iterate(log);
            sums ??= new double[values.Length];
            counts ??= new int[values.Length];
            intervalSteps++;
            for (int i = 0; i < values.Length; i++)
            {
                if (!double.IsFinite(values[i])) continue;
                sums[i] += values[i];
                counts[i]++;
            }
            double seconds = interval.Elapsed.TotalSeconds;
            if (seconds > 0) samplesPerSecond = intervalSteps * (double)schedule.BatchSize / seconds;
            progress?.Invoke(values, samplesPerSecond, session.Elapsed);
            if (run.Step % schedule.LogEvery == 0 || run.Step == schedule.Steps)
            {
                var means = sums.Select((s, i) => counts[i] > 0 ? s / counts[i] : (double?)null).ToArray();
                log?.Metrics(run.Step, logLine(means, samplesPerSecond, session.Elapsed));
                Array.Clear(sums);
                Array.Clear(counts);
                intervalSteps = 0;
                interval.Restart();
            }
            if (measure != null && log != null && schedule.MeasureEvery > 0 && (run.Step % schedule.MeasureEvery == 0 || run.Step == schedule.Steps))
            {
                interval.Stop();
                measure(log);
                interval.Start();
            }
            if (schedule.CheckpointEvery > 0 && run.Step % schedule.CheckpointEvery == 0)
            {
                Save(run, schedule);
                savedAt = run.Step;
            }
        }
        if (savedAt != run.Step) Save(run, schedule);
        return new TrainResult(run.Step, false, run.CheckpointPath, run.Skipped);
    }

    /// <summary>The log's closing values every run shares: throughput, skipped updates and the session's seconds.</summary>
    public static IEnumerable<(string Name, double? Value)> Tail(ITrainingRun run, double samplesPerSecond, TimeSpan elapsed) =>
    [
        ("samples_per_s", Math.Round(samplesPerSecond, 1)),
        ("skipped", run.Skipped),
        ("elapsed_s", Math.Round(elapsed.TotalSeconds, 3)),
    ];

    /// <summary>A float as the double with the same shortest decimal form (3e-4, not 3.0000001e-4), for logs.</summary>
    public static double Shortest(float v) => double.Parse(v.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static void Save(ITrainingRun run, RunSchedule schedule)
    {
        if (run.CheckpointPath is not { } path) return;
        run.SaveCheckpoint(path);
        if (schedule.PreviewSamples > 0) run.WritePreview(Path.Combine(run.OutDir!, $"samples-{run.Step:D7}.png"));
    }
}
