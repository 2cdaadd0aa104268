using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Bench.Report;

/// <summary>A saved benchmark run: what ran where, how it was invoked, and every result.</summary>
/// <param name="Date">UTC time the run started (ISO 8601).</param>
/// <param name="Command">The command line that produced it.</param>
/// <param name="GitCommit">Commit of the sources measured.</param>
/// <param name="Machine">Processor and software.</param>
/// <param name="LoadAverageBefore">Load averages (1, 5, 15 min) when the run started.</param>
/// <param name="LoadAverageAfter">Load averages when it ended.</param>
/// <param name="Openblas">The OpenBLAS library found, or why none was.</param>
/// <param name="Torch">The PyTorch build compared against, when it was.</param>
/// <param name="Results">One entry per case.</param>
public sealed record BenchReport(
    string Date,
    string Command,
    string GitCommit,
    MachineInfo Machine,
    double[]? LoadAverageBefore,
    double[]? LoadAverageAfter,
    string Openblas,
    string? Torch,
    IReadOnlyList<BenchResult> Results)
{
    private static readonly JsonSerializerOptions FileOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the report as indented JSON.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, FileOptions) + "\n");
    }

    /// <summary>Reads a report written by <see cref="Save"/>.</summary>
    public static BenchReport Load(string path) =>
        JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(path), FileOptions) ?? throw new FormatException($"bench: {path} is empty");
}
