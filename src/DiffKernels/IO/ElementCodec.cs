using System.Buffers.Binary;

namespace DiffKernels.IO;

/// <summary>Little-endian conversion between stored elements and float32; narrowing rounds to nearest even.</summary>
internal static class ElementCodec
{
    /// <summary>Bytes per element.</summary>
    public static int Size(DType t) => t == DType.F32 ? 4 : 2;

    /// <summary>The safetensors spelling of a dtype.</summary>
    public static string Name(DType t) => t switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>Parses a safetensors dtype name; false for anything else.</summary>
    public static bool TryParse(string name, out DType t)
    {
        switch (name)
        {
            case "F32": t = DType.F32; return true;
            case "F16": t = DType.F16; return true;
            case "BF16": t = DType.BF16; return true;
            default: t = default; return false;
        }
    }

    /// <summary>Decodes <c>dst.Length</c> elements from <paramref name="src"/>.</summary>
    public static void Decode(DType t, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (t)
        {
            case DType.F32:
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case DType.F16:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]);
                break;
            case DType.BF16:
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16);
                break;
        }
    }

    /// <summary>Encodes <paramref name="src"/> into <paramref name="dst"/> (Size(t)·src.Length bytes).</summary>
    public static void Encode(DType t, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (t)
        {
            case DType.F32:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
                break;
            case DType.F16:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(dst[(2 * i)..], (Half)src[i]);
                break;
            case DType.BF16:
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], ToBFloat16(src[i]));
                break;
        }
    }

    /// <summary>float32 → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN of the same sign.</summary>
    public static ushort ToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x0040);
        uint bias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + bias) >> 16);
    }
}
