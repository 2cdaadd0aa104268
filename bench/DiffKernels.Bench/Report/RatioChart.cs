using ScottPlot;

namespace DiffKernels.Bench.Report;

/// <summary>A bar chart of each case's ratio to its baseline, with the parity line at 1.</summary>
public static class RatioChart
{
    /// <summary>Saves the chart of <paramref name="results"/> that have a ratio as a PNG; returns false when none has one.</summary>
    public static bool Save(IReadOnlyList<BenchResult> results, string title, string path)
    {
        var rows = results.Where(r => r.Ratio != null).Reverse().ToArray();
        if (rows.Length == 0) return false;
        var plot = new Plot();
        var bars = rows.Select((r, i) => new Bar
        {
            Position = i,
            Value = r.Ratio!.Value,
            FillColor = r.Ratio >= 1 ? Colors.SeaGreen : Colors.IndianRed,
            Label = $"{r.Ratio:0.00}×",
            Orientation = Orientation.Horizontal,
        }).ToList();
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 12;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Length).Select(i => (double)i).ToArray(),
            rows.Select(r => $"{r.Case} vs {r.BaselineName}").ToArray());
        var parity = plot.Add.VerticalLine(1);
        parity.LinePattern = LinePattern.Dashed;
        parity.Color = Colors.Black;
        plot.Title(title);
        plot.XLabel("speed ratio, ours / baseline (> 1: ours faster)");
        plot.Axes.SetLimitsX(0, Math.Max(1.3, rows.Max(r => r.Ratio!.Value) * 1.15));
        plot.Axes.Margins(left: 0, bottom: 0.02, top: 0.02);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 1200, 120 + 34 * rows.Length);
        return true;
    }
}
