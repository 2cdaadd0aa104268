using System.Text.Json;

namespace DiffKernels.Diffusion.Training;

/// <summary>Helpers shared by the JSONL run logs.</summary>
public static class JsonlLogs
{
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
}
