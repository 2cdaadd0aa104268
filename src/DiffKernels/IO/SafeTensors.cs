using DiffKernels.Tensors;

namespace DiffKernels.IO;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}, then the data
/// buffer, offsets relative to its start. F32, F16 and BF16 are read into float32 tensors. Malformed
/// files raise <see cref="SafeTensorsFormatException"/>; I/O failures (missing file, permissions)
/// raise the usual <see cref="IOException"/> family.
/// </summary>
public static partial class SafeTensors
{
    /// <summary>Headers larger than this are refused before being read.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>The reserved header key holding the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    private const int ChunkElements = 1 << 16;

    /// <summary>Reads and validates the header only (names, dtypes, shapes, byte ranges, metadata).</summary>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return ReadHeader(path, fs);
    }

    /// <summary>
    /// Loads every tensor as float32 onto <paramref name="device"/> (default device when null). The whole
    /// header is validated before any tensor is allocated; on failure nothing loaded survives.
    /// </summary>
    public static SafeTensorsFile Load(string path, Device? device = null)
    {
        using var fs = OpenRead(path);
        var header = ReadHeader(path, fs);
        foreach (var info in header.Tensors)
            if (info.Shape.Count > Shape.MaxRank)
                throw new SafeTensorsFormatException(path, $"tensor '{info.Name}': rank {info.Shape.Count} exceeds the supported maximum {Shape.MaxRank}");

        var tensors = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            int chunk = ChunkSize(header.Tensors.Select(i => i.Numel));
            var bytes = new byte[chunk * 4];
            var floats = new float[chunk];
            foreach (var info in header.Tensors)
            {
                var t = Tensor.Empty(new Shape(info.Shape.ToArray()), device);
                tensors.Add(info.Name, t);
                int size = ElementCodec.Size(info.DType);
                fs.Position = header.DataStart + info.Begin;
                for (long done = 0; done < info.Numel;)
                {
                    int n = (int)Math.Min(chunk, info.Numel - done);
                    fs.ReadExactly(bytes, 0, n * size);
                    ElementCodec.Decode(info.DType, bytes.AsSpan(0, n * size), floats.AsSpan(0, n));
                    t.Backend.Upload(floats.AsSpan(0, n), t.Storage, done);
                    done += n;
                }
                t.Name = info.Name;
            }
        }
        catch (Exception e)
        {
            foreach (var t in tensors.Values) t.Dispose();
            if (e is EndOfStreamException)
                throw new SafeTensorsFormatException(path, "file ended inside the data buffer (changed while reading?)", e);
            throw;
        }
        return new SafeTensorsFile(tensors, header.Metadata);
    }

    /// <summary>Staging buffer length: no larger than the largest tensor, so small files stay off the large-object heap.</summary>
    private static int ChunkSize(IEnumerable<long> numels) => (int)Math.Min(ChunkElements, numels.DefaultIfEmpty(0).Max());

    // A folder would otherwise surface as "access denied", which sends the user looking at permissions.
    private static FileStream OpenRead(string path) => Directory.Exists(path)
        ? throw new SafeTensorsFormatException(path, "a folder, not a safetensors file")
        : new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

    private static SafeTensorsHeader ReadHeader(string path, FileStream fs)
    {
        try
        {
            return SafeTensorsHeaderParser.Read(path, fs);
        }
        catch (EndOfStreamException e)
        {
            throw new SafeTensorsFormatException(path, "file ended inside the header (changed while reading?)", e);
        }
    }
}
