using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using DiffKernels.Tensors;

namespace DiffKernels.IO;

public static partial class SafeTensors
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (in ordinal name order) and optional <paramref name="metadata"/>,
    /// storing elements as <paramref name="dtype"/> (F16/BF16 round to nearest even). The write is atomic:
    /// data goes to a temporary file in the same directory, is flushed to disk and then renamed over
    /// <paramref name="path"/>, so a failure leaves any previous file untouched and no temporary behind.
    /// The JSON header is padded with spaces so the data buffer starts 8-byte aligned.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, DType dtype = DType.F32)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!Enum.IsDefined(dtype)) throw new ArgumentOutOfRangeException(nameof(dtype), dtype, $"SafeTensors.Save: unknown dtype for '{path}'");
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, t) in ordered)
        {
            if (name == MetadataKey) throw new ArgumentException($"SafeTensors.Save: '{MetadataKey}' is reserved and cannot name a tensor");
            if (t is null) throw new ArgumentException($"SafeTensors.Save: tensor '{name}' is null");
        }
        if (metadata != null)
            foreach (var (k, v) in metadata)
                if (v is null) throw new ArgumentException($"SafeTensors.Save: metadata value for '{k}' is null");

        var header = BuildHeader(ordered, metadata, dtype);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                fs.Write(prefix);
                fs.Write(header);
                WriteData(fs, ordered, dtype);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The UTF-8 JSON header, space-padded so 8 + its length is a multiple of 8.</summary>
    private static byte[] BuildHeader(List<KeyValuePair<string, Tensor>> ordered, IReadOnlyDictionary<string, string>? metadata, DType dtype)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in ordered)
            {
                long bytes = t.Numel * ElementCodec.Size(dtype);
                w.WriteStartObject(name);
                w.WriteString("dtype", ElementCodec.Name(dtype));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape.ToArray()) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int pad = (int)((8 - ms.Length % 8) % 8);
        for (int i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    private static void WriteData(FileStream fs, List<KeyValuePair<string, Tensor>> ordered, DType dtype)
    {
        int size = ElementCodec.Size(dtype);
        int chunk = ChunkSize(ordered.Select(kv => kv.Value.Numel));
        var floats = new float[chunk];
        var bytes = new byte[chunk * size];
        foreach (var (_, t) in ordered)
        {
            var storage = t.Storage;
            for (long done = 0; done < t.Numel;)
            {
                int n = (int)Math.Min(chunk, t.Numel - done);
                t.Backend.Download(storage, done, floats.AsSpan(0, n));
                ElementCodec.Encode(dtype, floats.AsSpan(0, n), bytes.AsSpan(0, n * size));
                fs.Write(bytes, 0, n * size);
                done += n;
            }
        }
    }
}
