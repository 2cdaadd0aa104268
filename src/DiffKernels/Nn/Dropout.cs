using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>Inverted dropout while <see cref="Module.Training"/>; the identity in evaluation mode.</summary>
public sealed class Dropout : Module, ILayer
{
    private readonly Generator _gen;

    /// <summary>Drops with probability <paramref name="p"/> in [0, 1), masks drawn from <paramref name="gen"/> (default: <see cref="Init.DefaultGenerator"/> at construction).</summary>
    public Dropout(float p, Generator? gen = null)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentException($"Dropout: probability {p} must be in [0, 1)");
        P = p;
        _gen = gen ?? Init.DefaultGenerator;
    }

    /// <summary>Drop probability.</summary>
    public float P { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => F.Dropout(x, P, _gen, Training);
}
