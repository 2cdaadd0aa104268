using System.Globalization;
using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;

namespace DiffKernels.Diffusion.Training;

/// <summary>A network's raw weights, "{prefix}NAME" for parameter NAME, convolution weights OIHW in the file.</summary>
public sealed class ModulePart(string prefix, Module module) : IStatePart
{
    /// <summary>The network whose weights this part holds.</summary>
    public Module Module => module;

    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint) =>
        checkpoint.AddTensors(CheckpointLayout.ToFile(module.StateDict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value), module, ParameterOf));

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint) =>
        module.LoadStateDict(CheckpointLayout.FromFile(checkpoint.Prefixed(prefix), module, ParameterOf).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));

    private string? ParameterOf(string key) => key[prefix.Length..];
}

/// <summary>
/// An Adam optimiser's state under "{prefix}", which it owns: its moments "{prefix}I.exp_avg" and ".exp_avg_sq"
/// mirror parameter I of <paramref name="module"/> (the optimiser is built over its parameters in order), so they are
/// stored in that parameter's file layout.
/// </summary>
public sealed class AdamPart(string prefix, Adam adam, Module module) : IStatePart, IDisposable
{
    private readonly string[] _names = module.NamedParameters().Select(p => p.Name).ToArray();

    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint) =>
        checkpoint.AddTensors(CheckpointLayout.ToFile(adam.StateDict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value), module, ParameterOf));

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint) =>
        adam.LoadStateDict(CheckpointLayout.FromFile(checkpoint.Prefixed(prefix), module, ParameterOf).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value));

    private string? ParameterOf(string key)
    {
        var parts = key[prefix.Length..].Split('.');
        return parts.Length == 2 && parts[1] is "exp_avg" or "exp_avg_sq"
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i) && i < _names.Length
            ? _names[i] : null;
    }

    /// <summary>Releases the optimiser's state.</summary>
    public void Dispose() => adam.Dispose();
}

/// <summary>A random stream's offset under <paramref name="key"/>, so a resumed run draws what the uninterrupted one would.</summary>
public sealed class RngPart(string key, Generator generator) : IStatePart
{
    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint) => checkpoint.AddMetadata(key, generator.Offset.ToString(CultureInfo.InvariantCulture));

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint) => generator.Offset = (ulong)checkpoint.Count(key);
}

/// <summary>Metadata a run writes (<paramref name="save"/>) and, where it restores or checks something, reads back (<paramref name="load"/>).</summary>
public sealed class MetadataPart(Func<IEnumerable<KeyValuePair<string, string>>> save, Action<CheckpointReader>? load = null) : IStatePart
{
    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint) => checkpoint.AddMetadata(save());

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint) => load?.Invoke(checkpoint);
}

/// <summary>
/// The training data's spec and crop (what evaluation compares against and exported samples drop); a resume must
/// be on the same data.
/// </summary>
public sealed class DataPart(IDataSource data) : IStatePart
{
    /// <inheritdoc/>
    public void Save(CheckpointWriter checkpoint)
    {
        checkpoint.AddMetadata(CheckpointKeys.Data, data.Name);
        if (data.Crop > 0) checkpoint.AddMetadata(CheckpointKeys.Crop, data.Crop.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc/>
    public void Load(CheckpointReader checkpoint)
    {
        string recorded = checkpoint.Meta(CheckpointKeys.Data);
        if (recorded != data.Name)
            throw new ArgumentException($"{checkpoint.Path}: the run trained on '{recorded}', not '{data.Name}'; resume on the same data");
    }
}
