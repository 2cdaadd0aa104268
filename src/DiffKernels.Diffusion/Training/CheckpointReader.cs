using System.Globalization;
using DiffKernels.Diffusion.Models;
using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A run checkpoint opened for resuming: its metadata at once, its tensors when the state is loaded. Missing or
/// malformed entries are format errors that name the file.
/// </summary>
public sealed class CheckpointReader
{
    private readonly string _kind;
    private IReadOnlyDictionary<string, Tensor>? _tensors;

    private CheckpointReader(string path, string kind, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _kind = kind;
        Metadata = metadata;
    }

    /// <summary>Reads the header of <paramref name="path"/>, a checkpoint of a <paramref name="kind"/> run (for messages).</summary>
    public static CheckpointReader Open(string path, string kind) => new(path, kind, SafeTensors.ReadHeader(path).Metadata);

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>All metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The metadata value under <paramref name="key"/>; throws when it is missing.</summary>
    public string Meta(string key) => Metadata.TryGetValue(key, out var v) ? v
        : throw new SafeTensorsFormatException(Path, $"not a {_kind} checkpoint: metadata '{key}' is missing");

    /// <summary>The whole number ≥ 0 under <paramref name="key"/>.</summary>
    public long Count(string key) =>
        long.TryParse(Meta(key), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw new SafeTensorsFormatException(Path, $"metadata '{key}' = '{Meta(key)}' is not a whole number ≥ 0");

    /// <summary>The training-state tensors under <paramref name="prefix"/>, as in the file, with their full names.</summary>
    public Dictionary<string, Tensor> Prefixed(string prefix) =>
        Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    internal IReadOnlyDictionary<string, Tensor> SampledWeights =>
        Tensors.Where(kv => !kv.Key.StartsWith(CheckpointKeys.Prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    private IReadOnlyDictionary<string, Tensor> Tensors => _tensors ?? throw new InvalidOperationException("CheckpointReader: tensors are read when the state loads");

    // The sampled network's weights come back in memory layout; training state stays as filed for its part to convert.
    internal void ReadTensors(Module sampled, Device device) => _tensors = ModelFactory.ReadTensors(Path, sampled, device: device);
}
