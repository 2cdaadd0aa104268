using System.Text.Json;
using DiffKernels.Diffusion.Evaluation;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A run's quality curve as its log holds it: lines {"step": S, "fd": value, "fd_n": samples} (or "sw2" on toys), and
/// the plot drawn from them (<see cref="LinePlot"/>: the metric on a log scale over the steps). The plot is always
/// redrawn from the whole log, so a resumed run's plot holds the points of every session up to its checkpoint.
/// </summary>
public static class QualityCurveLog
{
    /// <summary>The key of the samples' count beside <paramref name="metric"/> in a log line ("fd_n").</summary>
    public static string CountKey(string metric) => metric + "_n";

    /// <summary>The plot's file name in the run's output directory ("fd.png", "sw2.png").</summary>
    public static string PlotFile(string metric) => metric + ".png";

    /// <summary>
    /// The (step, value) points of <paramref name="metric"/> in the log at <paramref name="logPath"/>, in its order: lines
    /// with a numeric value (a failed measurement logs null and is left out); lines that are not JSON objects are skipped.
    /// </summary>
    public static IReadOnlyList<(long Step, double Value)> Read(string logPath, string metric)
    {
        var points = new List<(long, double)>();
        if (!File.Exists(logPath)) return points;
        foreach (var line in File.ReadLines(logPath))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                if (o.ValueKind == JsonValueKind.Object && o.TryGetProperty("step", out var s) && s.TryGetInt64(out long step)
                    && o.TryGetProperty(metric, out var v) && v.ValueKind == JsonValueKind.Number)
                    points.Add((step, v.GetDouble()));
            }
            catch (JsonException)
            {
                // Not a log line of this library (RunLog keeps such lines too).
            }
        }
        return points;
    }

    /// <summary>Draws the curve of <paramref name="metric"/> in the log at <paramref name="logPath"/> into <paramref name="pngPath"/>.</summary>
    public static void Draw(string logPath, string metric, string pngPath)
    {
        var points = Read(logPath, metric);
        LinePlot.Save(pngPath, [new LineSeries(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Value).ToArray())]);
    }
}
