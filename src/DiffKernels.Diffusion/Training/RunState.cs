using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>A named piece of a run's state: it writes itself into a checkpoint and reads itself back on resume.</summary>
public interface IStatePart
{
    /// <summary>Adds this part's tensors and metadata to <paramref name="checkpoint"/>.</summary>
    void Save(CheckpointWriter checkpoint);

    /// <summary>Restores this part from <paramref name="checkpoint"/>.</summary>
    void Load(CheckpointReader checkpoint);
}

/// <summary>
/// A run's whole state: the network it samples from with its EMA (stored under the network's own names, so the
/// checkpoint loads and samples as a plain model), then the parts the run kind registered, saved and restored in
/// registration order. The state owns the EMA and the parts that own something (optimisers); the run kind owns
/// its networks.
/// </summary>
public sealed class RunState : IDisposable
{
    private readonly List<IStatePart> _parts = [];

    /// <summary>A state that samples <paramref name="sampled"/> through an EMA started at its current weights.</summary>
    public RunState(Module sampled)
    {
        Sampled = sampled;
        Ema = new Ema(sampled);
    }

    /// <summary>The network checkpoints describe and sample from.</summary>
    public Module Sampled { get; }

    /// <summary>The EMA of <see cref="Sampled"/>'s weights.</summary>
    public Ema Ema { get; }

    /// <summary>Registers <paramref name="part"/> after the ones before it.</summary>
    public void Add(IStatePart part) => _parts.Add(part);

    /// <summary>Writes the EMA weights and every part to <paramref name="path"/> atomically.</summary>
    public void Save(string path)
    {
        using var scope = Tensor.Scope();
        var writer = new CheckpointWriter();
        foreach (var part in _parts) part.Save(writer);
        ModelFactory.Save(path, Sampled, Ema.Shadow, writer.Tensors, writer.Metadata);
    }

    /// <summary>
    /// The metadata every part would write into a checkpoint now (not the model's kind and config, which
    /// <see cref="ModelFactory.Save"/> adds): what sampling reads besides the weights, e.g. σ_data, sampler defaults, crop.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata()
    {
        using var scope = Tensor.Scope();
        var writer = new CheckpointWriter();
        foreach (var part in _parts) part.Save(writer);
        return writer.Metadata;
    }

    /// <summary>Reads the EMA weights and every part back from <paramref name="checkpoint"/>, onto <paramref name="device"/>.</summary>
    public void Load(CheckpointReader checkpoint, Device device)
    {
        using var scope = Tensor.Scope();
        checkpoint.ReadTensors(Sampled, device);
        Ema.Load(checkpoint.SampledWeights);
        foreach (var part in _parts) part.Load(checkpoint);
    }

    /// <summary>
    /// The tensors every rank of a data-parallel run must hold alike: the sampled network's and each registered
    /// network's weights and buffers, and the EMA (optimiser moments follow from identical gradients).
    /// </summary>
    public IReadOnlyList<Tensor> Replicated()
    {
        var modules = new List<Module> { Sampled };
        modules.AddRange(_parts.OfType<ModulePart>().Select(p => p.Module).Where(m => !modules.Contains(m)));
        return [.. modules.SelectMany(m => m.StateDict().Values).Distinct(), .. Ema.Shadow.Values];
    }

    /// <summary>Releases the EMA and the optimisers the parts own.</summary>
    public void Dispose()
    {
        foreach (var part in _parts.OfType<IDisposable>()) part.Dispose();
        Ema.Dispose();
    }
}
