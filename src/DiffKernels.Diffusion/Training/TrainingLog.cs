using System.Text.Json;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// The JSONL training log: one object per line, appended and flushed as it is written, so a resumed run
/// continues the same file. Metrics lines carry step, loss, lr, samples_per_s, skipped and elapsed_s;
/// warning lines carry step and warning.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>
    /// Opens <paramref name="path"/> for appending after step <paramref name="continuesAt"/> (the checkpoint a run
    /// starts or resumes from): lines a killed run wrote past that step are dropped first.
    /// </summary>
    public TrainingLog(string path, long continuesAt)
    {
        Path = path;
        JsonlLogs.DropAfter(path, continuesAt);
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>A metrics line; the loss is the mean over the interval's completed steps (null when all were skipped).</summary>
    public void Metrics(long step, double? loss, float lr, double samplesPerSecond, long skipped, double elapsedSeconds) => Write(w =>
    {
        w.WriteNumber("step", step);
        if (loss is { } l) w.WriteNumber("loss", l); else w.WriteNull("loss");
        w.WriteNumber("lr", lr);
        w.WriteNumber("samples_per_s", Math.Round(samplesPerSecond, 1));
        w.WriteNumber("skipped", skipped);
        w.WriteNumber("elapsed_s", Math.Round(elapsedSeconds, 3));
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
