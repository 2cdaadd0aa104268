using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffKernels.IO;

namespace DiffKernels.Cli.Commands;

/// <summary>`dk inspect FILE`: the tensors (name, dtype, shape, elements) and metadata of a safetensors file, without loading its data.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A .safetensors file" };
        var cmd = new Command("inspect", "List the tensors and metadata of a safetensors file") { file };
        cmd.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            return CliErrors.Run("inspect", parseResult.InvocationConfiguration.Error, () =>
            {
                string path = parseResult.GetValue(file)!;
                Print(output, path, SafeTensors.ReadHeader(path));
                return 0;
            });
        });
        return cmd;
    }

    private static void Print(TextWriter o, string path, SafeTensorsHeader h)
    {
        var rows = h.Tensors.Select(t => new[] { t.Name, t.DType.ToString(), t.ShapeText, Count(t.Numel) }).ToList();
        string[] titles = ["name", "dtype", "shape", "numel"];
        var widths = titles.Select((title, c) => rows.Select(r => r[c].Length).Append(title.Length).Max()).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((s, c) => c == 3 ? s.PadLeft(widths[c]) : s.PadRight(widths[c]))).TrimEnd();

        o.WriteLine(path);
        o.WriteLine();
        o.WriteLine(Line(titles));
        o.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var r in rows) o.WriteLine(Line(r));
        o.WriteLine();

        if (h.Metadata.Count > 0)
        {
            o.WriteLine("metadata:");
            foreach (var (k, v) in h.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                o.WriteLine($"  {k}: {Pretty(v).ReplaceLineEndings(Environment.NewLine + "    ")}");
            o.WriteLine();
        }

        long numel = h.Tensors.Sum(t => t.Numel), bytes = h.Tensors.Sum(t => t.ByteLength);
        o.WriteLine($"{h.Tensors.Count} tensors, {Count(numel)} elements, {Size(bytes)} of data ({Size(h.DataStart + h.DataLength)} file)");
    }

    /// <summary>JSON objects and arrays stored as strings are shown indented; anything else as is.</summary>
    private static string Pretty(string value)
    {
        string t = value.TrimStart();
        if (!t.StartsWith('{') && !t.StartsWith('[')) return value;
        try
        {
            using var doc = JsonDocument.Parse(value);
            return JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        catch (JsonException)
        {
            return value;
        }
    }

    private static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.0} {units[u]}");
    }
}
