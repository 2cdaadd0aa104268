using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data.Toys;

/// <summary>Fresh points of a 2D toy for every training batch (an endless, unlabelled dataset).</summary>
public sealed class ToyDataSource(ToyDistribution toy) : IDataSource
{
    /// <summary>The spec prefix: "toy:NAME".</summary>
    public const string Prefix = "toy:";

    /// <summary>The distribution sampled.</summary>
    public ToyDistribution Toy { get; } = toy;

    /// <inheritdoc/>
    public string Name => Prefix + Toy.Name;

    /// <inheritdoc/>
    public Shape SampleShape => [2];

    /// <inheritdoc/>
    public int NumClasses => 0;

    /// <inheritdoc/>
    public DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null) => new(Toy.SampleTensor(batchSize, gen, device), null);

    /// <summary>True when <paramref name="spec"/> names a toy ("toy:NAME").</summary>
    public static bool IsToySpec(string spec) => spec.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The source for "toy:NAME".</summary>
    public static ToyDataSource FromSpec(string spec)
    {
        if (!IsToySpec(spec)) throw new ArgumentException($"'{spec}' is not a toy spec (expected {Prefix}NAME with NAME one of {string.Join(", ", ToyDistribution.Names)})");
        return new ToyDataSource(ToyDistribution.FromName(spec[Prefix.Length..]));
    }
}
