using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Bench;

/// <summary>
/// One case's outcome. Figures are in <see cref="Unit"/>; <see cref="Ratio"/> is ours over the baseline
/// in speed (above 1: ours is faster). Times are medians in milliseconds, spreads the interquartile
/// range in percent of the median. Peak resident memory is the process's high-water mark while the
/// case ran (where the OS reports it). Against PyTorch over several rounds (<c>--vs-torch --rounds</c>), the figures
/// and times are medians over the rounds, <see cref="Ratio"/> the median of the rounds' own ratios, and
/// <see cref="RatioMin"/> to <see cref="RatioMax"/> their range (<see cref="RoundRatios"/> each, in order); <see cref="Verdict"/> judges the median against
/// <see cref="Target"/>. On a GPU backend <see cref="LaunchesPerRun"/> counts the kernels one run of ours launched.
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
    string? Note,
    double? PeakRssMb = null,
    double? BaselinePeakRssMb = null,
    int? Rounds = null,
    double? RatioMin = null,
    double? RatioMax = null,
    IReadOnlyList<double>? RoundRatios = null,
    double? Target = null,
    string? Verdict = null,
    double? LaunchesPerRun = null)
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

    /// <summary>This result compared with another implementation's result for the same case (its note kept) instead of the in-process baseline.</summary>
    public BenchResult Against(BenchResult other, BenchUnit unit) => this with
    {
        BaselineName = other.Backend,
        Baseline = other.Ours,
        Ratio = Round(unit.Ratio(Ours, other.Ours)),
        BaselineMs = other.OursMs,
        BaselineSpreadPct = other.OursSpreadPct,
        BaselinePeakRssMb = other.PeakRssMb,
        Note = other.Note,
    };

    /// <summary>Rounds to four significant digits so lines stay readable.</summary>
    public static double Round(double v) =>
        v == 0 || !double.IsFinite(v) ? v : Math.Round(v, Math.Clamp(3 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15));
}
