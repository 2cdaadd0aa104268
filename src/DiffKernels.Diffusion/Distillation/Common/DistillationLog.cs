using System.Text.Json;

namespace DiffKernels.Diffusion.Distillation.Common;

/// <summary>
/// A distillation run's JSONL log: one object per line, appended and flushed as written, so a resumed run
/// continues the same file. Metrics lines carry "step" and the distiller's named values (null when a value
/// is unavailable for the interval); warning lines carry "step" and "warning".
/// </summary>
public sealed class DistillationLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>
    /// Opens <paramref name="path"/> for appending after step <paramref name="continuesAt"/> (the checkpoint a run
    /// starts or resumes from): lines a killed run wrote past that step are dropped first.
    /// </summary>
    public DistillationLog(string path, long continuesAt)
    {
        Path = path;
        Training.JsonlLogs.DropAfter(path, continuesAt);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>A metrics line: the step, then each value under its name, in order.</summary>
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
