using System.Text.Json;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A run's JSONL log (teacher training, GAN training, distillation): one object per line, appended and flushed as
/// written, so a resumed run continues the same file. Metrics lines carry "step" and the run's named values (null
/// when a value is unavailable for the interval); warning lines carry "step" and "warning".
/// </summary>
public sealed class RunLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>
    /// Opens <paramref name="path"/> for appending after step <paramref name="continuesAt"/> (the checkpoint a run
    /// starts or resumes from): lines a killed run wrote past that step are dropped first.
    /// </summary>
    public RunLog(string path, long continuesAt)
    {
        Path = path;
        DropAfter(path, continuesAt);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>A metrics line: the step, then each value under its name, in order (non-finite values as null).</summary>
    public void Metrics(long step, IEnumerable<(string Name, double? Value)> values) => Write(w =>
    {
        w.WriteNumber("step", step);
        foreach (var (name, value) in values)
        {
            if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
            else w.WriteNull(name);
        }
    });

    /// <summary>A warning line.</summary>
    public void Warning(long step, string message) => Write(w =>
    {
        w.WriteNumber("step", step);
        w.WriteString("warning", message);
    });

    /// <summary>
    /// Drops the lines of <paramref name="path"/> whose "step" is past <paramref name="step"/>: a run killed between
    /// checkpoints logged steps that its resume will run and log again, and the log must read as one run. The file
    /// is replaced atomically; a missing file is left missing; lines that are not JSON objects with a step are kept.
    /// </summary>
    public static void DropAfter(string path, long step)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        var kept = lines.Where(line => StepOf(line) is not { } s || s <= step).ToList();
        if (kept.Count == lines.Length) return;
        string temp = path + ".tmp";
        File.WriteAllLines(temp, kept);
        File.Move(temp, path, overwrite: true);
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out long v)
                ? v
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        _writer.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
        _writer.Flush();
    }

    /// <inheritdoc/>
    public void Dispose() => _writer.Dispose();
}
