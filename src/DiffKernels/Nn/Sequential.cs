using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>Layers applied in order; children are named "0", "1", ... like PyTorch's Sequential.</summary>
public sealed class Sequential : Module, ILayer
{
    private readonly List<ILayer> _layers = [];

    /// <summary>Creates the chain; every element must be a <see cref="Module"/> implementing <see cref="ILayer"/>.</summary>
    public Sequential(params IEnumerable<Module> layers)
    {
        foreach (var m in layers) Add(m);
    }

    /// <summary>Appends a layer. Returns this container.</summary>
    public Sequential Add(Module layer)
    {
        if (layer is not ILayer l)
            throw new ArgumentException($"Sequential: {layer.GetType().Name} has no single-tensor Forward (does not implement ILayer)");
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(l);
        return this;
    }

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <inheritdoc/>
    public Tensor Forward(Tensor x)
    {
        foreach (var l in _layers) x = l.Forward(x);
        return x;
    }
}
