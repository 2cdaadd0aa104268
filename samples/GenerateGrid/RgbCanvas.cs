using System.Buffers.Binary;
using System.IO.Compression;

namespace GenerateGrid;

/// <summary>
/// An 8-bit RGB picture in memory and its PNG file. The sample writes its own PNG (a few lines with the runtime's zlib)
/// so that a trimmed or native-AOT build carries no image library.
/// </summary>
public sealed class RgbCanvas(int width, int height, byte grey)
{
    private readonly byte[] _rgb = Enumerable.Repeat(grey, checked(width * height * 3)).ToArray();

    /// <summary>Width in pixels.</summary>
    public int Width { get; } = width;

    /// <summary>Height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>Sets the pixel at (<paramref name="x"/>, <paramref name="y"/>) to grey level <paramref name="v"/>.</summary>
    public void SetGrey(int x, int y, byte v) => SetRgb(x, y, v, v, v);

    /// <summary>Sets the pixel at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public void SetRgb(int x, int y, byte r, byte g, byte b)
    {
        int i = (y * Width + x) * 3;
        (_rgb[i], _rgb[i + 1], _rgb[i + 2]) = (r, g, b);
    }

    /// <summary>Writes the picture as a PNG file (8-bit RGB, no filtering, zlib-compressed).</summary>
    public void SavePng(string path)
    {
        using var file = File.Create(path);
        file.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        (header[8], header[9]) = (8, 2); // 8 bits per channel, RGB; compression, filter and interlace 0
        WriteChunk(file, "IHDR", header);
        using var pixels = new MemoryStream();
        using (var z = new ZLibStream(pixels, CompressionLevel.Optimal, leaveOpen: true))
            for (int y = 0; y < Height; y++)
            {
                z.WriteByte(0); // filter type None
                z.Write(_rgb, y * Width * 3, Width * 3);
            }
        WriteChunk(file, "IDAT", pixels.ToArray());
        WriteChunk(file, "IEND", []);
    }

    private static void WriteChunk(Stream file, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        byte[] typeBytes = [.. type.Select(c => (byte)c)];
        file.Write(typeBytes);
        file.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeBytes, data));
        file.Write(word);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    // The CRC-32 PNG chunks end with, over the chunk type and data.
    private static uint Crc32(byte[] type, byte[] data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in type.Concat(data)) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
