using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace DiffKernels.IO;

/// <summary>
/// Reads and validates a safetensors header. Every size read from the file is checked against the real
/// file length before anything of that size is allocated, so a corrupt file fails fast and small.
/// </summary>
internal static class SafeTensorsHeaderParser
{
    public static SafeTensorsHeader Read(string path, FileStream fs)
    {
        long fileLength = fs.Length;
        if (fileLength < 8)
            throw new SafeTensorsFormatException(path, $"not a safetensors file: file is {fileLength} bytes, shorter than the 8-byte header length prefix");
        Span<byte> prefix = stackalloc byte[8];
        fs.ReadExactly(prefix);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n == 0)
            throw new SafeTensorsFormatException(path, "not a safetensors file: header length is 0");
        if (n > (ulong)SafeTensors.MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, $"not a safetensors file: the header length its first 8 bytes give, {n} bytes, exceeds the limit of {SafeTensors.MaxHeaderBytes} bytes");
        if (n > (ulong)(fileLength - 8))
            throw new SafeTensorsFormatException(path, $"not a safetensors file, or a truncated one: header length {n} bytes is larger than the {fileLength - 8} bytes that follow the prefix");
        var json = new byte[n];
        fs.ReadExactly(json);
        return Parse(path, json, fileLength - 8 - (long)n);
    }

    private static SafeTensorsHeader Parse(string path, byte[] json, long dataLength)
    {
        // The JSON reader checks structure but leaves string contents to be transcoded later, where bad UTF-8 would surface as another exception type.
        if (!Utf8.IsValid(json))
            throw new SafeTensorsFormatException(path, "header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(path, $"header is a JSON {doc.RootElement.ValueKind}, expected an object");
            var entries = new List<SafeTensorInfo>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            bool sawMetadata = false;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == SafeTensors.MetadataKey)
                {
                    if (sawMetadata) throw new SafeTensorsFormatException(path, "duplicate __metadata__ entry");
                    sawMetadata = true;
                    metadata = ParseMetadata(path, prop.Value);
                    continue;
                }
                if (!names.Add(prop.Name))
                    throw new SafeTensorsFormatException(path, $"duplicate tensor name '{prop.Name}'");
                entries.Add(ParseEntry(path, prop.Name, prop.Value, dataLength));
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            CheckOverlap(path, entries);
            return new SafeTensorsHeader(entries, metadata, json.Length, dataLength);
        }
    }

    private static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value.ValueKind == JsonValueKind.Null) return metadata;
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(path, $"__metadata__ is a JSON {value.ValueKind}, expected an object of strings");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsFormatException(path, $"metadata value for '{p.Name}' is a JSON {p.Value.ValueKind}, expected a string");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!))
                throw new SafeTensorsFormatException(path, $"duplicate metadata key '{p.Name}'");
        }
        return metadata;
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        SafeTensorsFormatException Bad(string problem) => new(path, $"tensor '{name}': {problem}");

        if (e.ValueKind != JsonValueKind.Object) throw Bad($"entry is a JSON {e.ValueKind}, expected an object");
        if (!e.TryGetProperty("dtype", out var dt)) throw Bad("missing 'dtype'");
        if (dt.ValueKind != JsonValueKind.String) throw Bad($"'dtype' is a JSON {dt.ValueKind}, expected a string");
        string dtName = dt.GetString()!;
        if (!ElementCodec.TryParse(dtName, out var dtype)) throw Bad($"unsupported dtype '{dtName}' (supported: F32, F16, BF16)");

        if (!e.TryGetProperty("shape", out var sh)) throw Bad("missing 'shape'");
        if (sh.ValueKind != JsonValueKind.Array) throw Bad($"'shape' is a JSON {sh.ValueKind}, expected an array");
        var dims = new List<int>();
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw Bad($"shape element {d.GetRawText()} is not a non-negative integer");
            if (v > int.MaxValue) throw Bad($"shape dimension {v} is too large");
            dims.Add((int)v);
        }
        long size = ElementCodec.Size(dtype);
        long numel = Numel(dims, long.MaxValue / size) ?? throw Bad($"shape [{string.Join(", ", dims)}] has too many elements");

        if (!e.TryGetProperty("data_offsets", out var off)) throw Bad("missing 'data_offsets'");
        if (off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2
            || !TryOffset(off[0], out long begin) || !TryOffset(off[1], out long end))
            throw Bad($"'data_offsets' is {off.GetRawText()}, expected [begin, end] with non-negative integers");
        if (begin > end) throw Bad($"data_offsets [{begin}, {end}] have begin after end");
        if (end > dataLength) throw Bad($"data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data buffer (truncated file?)");
        if (end - begin != numel * size)
            throw Bad($"data_offsets [{begin}, {end}] span {end - begin} bytes but shape [{string.Join(", ", dims)}] of {dtName} needs {numel * size}");
        return new SafeTensorInfo(name, dtype, dims.ToArray(), numel, begin, end);
    }

    private static bool TryOffset(JsonElement e, out long v)
    {
        v = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out v) && v >= 0;
    }

    /// <summary>The product of <paramref name="dims"/>, or null when it exceeds <paramref name="limit"/>.</summary>
    private static long? Numel(List<int> dims, long limit)
    {
        if (dims.Contains(0)) return 0;
        long n = 1;
        foreach (var d in dims)
        {
            if (n > limit / d) return null;
            n *= d;
        }
        return n;
    }

    private static void CheckOverlap(string path, List<SafeTensorInfo> entries)
    {
        var byStart = entries.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ToList();
        for (int i = 1; i < byStart.Count; i++)
        {
            var (a, b) = (byStart[i - 1], byStart[i]);
            if (b.Begin < a.End)
                throw new SafeTensorsFormatException(path, $"tensors '{a.Name}' [{a.Begin}, {a.End}) and '{b.Name}' [{b.Begin}, {b.End}) overlap");
        }
    }
}
