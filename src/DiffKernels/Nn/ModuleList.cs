using System.Collections;

namespace DiffKernels.Nn;

/// <summary>An indexed list of submodules named "0", "1", ... (PyTorch's ModuleList).</summary>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>Creates a list holding <paramref name="items"/>.</summary>
    public ModuleList(params IEnumerable<T> items)
    {
        foreach (var m in items) Add(m);
    }

    /// <summary>Appends a module (named by its index). Returns it.</summary>
    public T Add(T module)
    {
        RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
        return module;
    }

    /// <summary>The module at <paramref name="index"/>.</summary>
    public T this[int index] => _items[index];

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
