namespace DiffKernels.IO;

/// <summary>The validated header of a safetensors file: its entries (sorted by name) and metadata.</summary>
public sealed class SafeTensorsHeader
{
    internal SafeTensorsHeader(IReadOnlyList<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata, long headerLength, long dataLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
        DataLength = dataLength;
    }

    /// <summary>The tensor entries in ordinal name order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length in bytes of the JSON header (the value of the 8-byte prefix).</summary>
    public long HeaderLength { get; }

    /// <summary>Length in bytes of the data buffer that follows the header.</summary>
    public long DataLength { get; }

    /// <summary>File offset of the data buffer.</summary>
    public long DataStart => 8 + HeaderLength;
}
