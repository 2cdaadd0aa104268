using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>
/// NumPy .npy files (format 1.0) of little-endian float32 in C order: how samples leave the engine for
/// other tools. Writes are atomic (temporary file, then rename).
/// </summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Writes <paramref name="data"/> with <paramref name="shape"/> (their sizes must agree).</summary>
    public static void Write(string path, ReadOnlySpan<float> data, IReadOnlyList<int> shape)
    {
        long numel = shape.Aggregate(1L, (a, d) => a * d);
        if (shape.Any(d => d < 0) || numel != data.Length)
            throw new ArgumentException($"NpyFile.Write: shape ({string.Join(", ", shape)}) does not hold {data.Length} values");
        using var writer = new NpyWriter(path, shape.Select(d => (long)d).ToArray());
        writer.Append(data);
        writer.Commit();
    }

    /// <summary>The magic, version, header length and header of a file of <paramref name="shape"/>, padded so data starts 64-byte aligned.</summary>
    internal static byte[] Preamble(IReadOnlyList<long> shape)
    {
        string dims = shape.Count == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        // Magic, version and header length take 10 bytes; pad with spaces so data starts 64-byte aligned.
        int total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = Encoding.ASCII.GetBytes(dict.PadRight(total - 10 - 1) + "\n");
        var bytes = new byte[10 + header.Length];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        header.CopyTo(bytes, 10);
        return bytes;
    }

    /// <summary>Reads a float32 C-order file written by <see cref="Write"/> (or NumPy); other layouts are refused.</summary>
    public static (float[] Data, int[] Shape) Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic) || bytes[6] != 1)
            throw new InvalidDataException($"{path}: not a version 1.0 .npy file");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (10 + headerLength > bytes.Length) throw new InvalidDataException($"{path}: header runs past the end of the file");
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        var m = HeaderPattern().Match(header);
        if (!m.Success) throw new InvalidDataException($"{path}: only little-endian float32 in C order is supported (header {header.Trim()})");
        var shape = m.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long numel = shape.Aggregate(1L, (a, d) => a * d);
        int start = 10 + headerLength;
        if (bytes.Length - start != numel * 4) throw new InvalidDataException($"{path}: {bytes.Length - start} data bytes for shape ({string.Join(", ", shape)})");
        var data = new float[numel];
        for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start + 4 * i));
        return (data, shape);
    }

    [GeneratedRegex(@"^\{'descr': '<f4', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \}\s*$")]
    private static partial Regex HeaderPattern();
}
