namespace DiffKernels.IO;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">The stored element type.</param>
/// <param name="Shape">The dimensions (empty for a scalar; any rank).</param>
/// <param name="Numel">The element count.</param>
/// <param name="Begin">First byte, relative to the start of the data buffer.</param>
/// <param name="End">One past the last byte, relative to the start of the data buffer.</param>
public sealed record SafeTensorInfo(string Name, DType DType, IReadOnlyList<int> Shape, long Numel, long Begin, long End)
{
    /// <summary>Stored size in bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>Formats the shape as "[2, 3]".</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
