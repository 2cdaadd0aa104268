using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Bench;

/// <summary>
/// One case's outcome. Figures are in <see cref="Unit"/>; <see cref="Ratio"/> is ours over the baseline
/// in speed (above 1: ours is faster). Times are medians in milliseconds, spreads the interquartile
/// range in percent of the median.
/// </summary>
public sealed record BenchResult(
    string Case,
    string Backend,
    string Unit,
    double Ours,
    string? BaselineName,
    double? Baseline,
    double? Ratio,
    double OursMs,
    double OursSpreadPct,
    int Runs,
    double? BaselineMs,
    double? BaselineSpreadPct,
    string? Note)
{
    private static readonly JsonSerializerOptions LineOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The result as one line of JSON (snake_case keys, nulls kept).</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(this, LineOptions);

    /// <summary>Parses a line written by <see cref="ToJsonLine"/>.</summary>
    public static BenchResult FromJsonLine(string line) =>
        JsonSerializer.Deserialize<BenchResult>(line, LineOptions) ?? throw new FormatException("bench: empty JSON line");

    /// <summary>This result compared with another implementation's figure instead of the in-process baseline.</summary>
    public BenchResult Against(string name, double value, double? medianMs, double? spreadPct, BenchUnit unit) => this with
    {
        BaselineName = name,
        Baseline = value,
        Ratio = Round(unit.Ratio(Ours, value)),
        BaselineMs = medianMs,
        BaselineSpreadPct = spreadPct,
        Note = null,
    };

    /// <summary>Rounds to four significant digits so lines stay readable.</summary>
    public static double Round(double v) =>
        v == 0 || !double.IsFinite(v) ? v : Math.Round(v, Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15));
}
