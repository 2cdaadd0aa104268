using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>What the parts of a <see cref="RunState"/> put into a checkpoint: tensors in file layout, and metadata.</summary>
public sealed class CheckpointWriter
{
    internal Dictionary<string, Tensor> Tensors { get; } = [];

    internal Dictionary<string, string> Metadata { get; } = [];

    /// <summary>Adds tensors already in file layout (their names must be new).</summary>
    public void AddTensors(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        foreach (var (name, t) in tensors) Tensors.Add(name, t);
    }

    /// <summary>Adds metadata entries (their keys must be new).</summary>
    public void AddMetadata(IEnumerable<KeyValuePair<string, string>> metadata)
    {
        foreach (var (key, value) in metadata) Metadata.Add(key, value);
    }

    /// <summary>Adds one metadata entry (its key must be new).</summary>
    public void AddMetadata(string key, string value) => Metadata.Add(key, value);
}
