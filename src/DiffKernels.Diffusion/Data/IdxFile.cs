using System.Buffers.Binary;
using System.IO.Compression;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// An unsigned-byte IDX array (the MNIST file format): a big-endian header 0x00 0x00 0x08 rank, then
/// rank big-endian int32 dimensions, then the bytes in row-major order. Files may be gzip-compressed
/// (detected by content, not by name).
/// </summary>
public sealed class IdxFile
{
    private const byte UnsignedByte = 0x08;

    private IdxFile(int[] dims, byte[] data)
    {
        Dims = dims;
        Data = data;
    }

    /// <summary>The dimensions, outermost first.</summary>
    public IReadOnlyList<int> Dims { get; }

    /// <summary>The elements, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Size of the first dimension (the number of items).</summary>
    public int Count => Dims[0];

    /// <summary>
    /// Reads <paramref name="path"/>, requiring an unsigned-byte array of rank <paramref name="rank"/>.
    /// Throws <see cref="FileNotFoundException"/> when absent and <see cref="IdxFormatException"/> (one
    /// line naming the file) on a wrong magic, a truncated file or a corrupt gzip stream.
    /// </summary>
    public static IdxFile Read(string path, int rank)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        try
        {
            using var file = File.OpenRead(path);
            using var input = IsGzip(file) ? (Stream)new GZipStream(file, CompressionMode.Decompress) : file;
            return Parse(input, path, rank);
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException($"{path}: corrupt gzip stream ({e.Message})", e);
        }
    }

    /// <summary>Writes an unsigned-byte IDX file (gzip-compressed when <paramref name="gzip"/>); for tests and tools.</summary>
    public static void Write(string path, IReadOnlyList<int> dims, ReadOnlySpan<byte> data, bool gzip)
    {
        long expected = dims.Aggregate(1L, (a, d) => a * d);
        if (expected != data.Length) throw new ArgumentException($"IdxFile.Write: dims [{string.Join(", ", dims)}] hold {expected} bytes, data has {data.Length}");
        using var file = File.Create(path);
        using var output = gzip ? (Stream)new GZipStream(file, CompressionLevel.Fastest) : file;
        Span<byte> word = stackalloc byte[4];
        output.Write([0, 0, UnsignedByte, (byte)dims.Count]);
        foreach (var d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            output.Write(word);
        }
        output.Write(data);
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        int n = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static IdxFile Parse(Stream input, string path, int rank)
    {
        Span<byte> magic = stackalloc byte[4];
        if (input.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4)
            throw new IdxFormatException($"{path}: truncated: shorter than the 4-byte IDX magic");
        uint expectedMagic = (uint)(UnsignedByte << 8 | rank);
        uint got = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (got != expectedMagic)
            throw new IdxFormatException($"{path}: wrong magic 0x{got:X8}, expected 0x{expectedMagic:X8} (IDX unsigned bytes, rank {rank})");

        var header = new byte[4 * rank];
        if (input.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw new IdxFormatException($"{path}: truncated: the header ends before its {rank} dimensions");
        var dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * i));
            if (dims[i] < 0) throw new IdxFormatException($"{path}: dimension {i} is negative ({dims[i]})");
            total *= dims[i];
        }
        if (total > Array.MaxLength)
            throw new IdxFormatException($"{path}: dimensions [{string.Join(", ", dims)}] describe {total} bytes, more than this reader supports");

        var data = new byte[total];
        int read = input.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new IdxFormatException($"{path}: truncated: dimensions [{string.Join(", ", dims)}] need {total} bytes of data, found {read}");
        if (input.ReadByte() != -1)
            throw new IdxFormatException($"{path}: trailing bytes after the {total} bytes that dimensions [{string.Join(", ", dims)}] describe");
        return new IdxFile(dims, data);
    }
}
