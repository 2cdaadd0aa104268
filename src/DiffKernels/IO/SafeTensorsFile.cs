using DiffKernels.Tensors;

namespace DiffKernels.IO;

/// <summary>
/// The content of a loaded safetensors file. The tensors are ordinary float32 tensors owned by the
/// scope that was current during the load.
/// </summary>
public sealed class SafeTensorsFile
{
    internal SafeTensorsFile(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The tensors by name, enumerated in ordinal name order.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>The "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
}
