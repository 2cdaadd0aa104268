namespace DiffKernels.Tensors;

/// <summary>
/// A memory scope: every tensor created on this thread while it is the innermost scope is released
/// when it is disposed, unless moved out with <see cref="Tensor.Keep"/>. Deterministic release keeps
/// device memory off the finaliser path.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    private readonly List<Tensor> _owned = [];
    private readonly TensorScope? _parent;
    private bool _disposed;

    private TensorScope(TensorScope? parent) => _parent = parent;

    /// <summary>Number of tensors this scope currently owns.</summary>
    public int Count => _owned.Count(t => t.OwnerScope == this && !t.IsDisposed);

    internal static TensorScope Push() => _current = new TensorScope(_current);

    internal static void Register(Tensor t)
    {
        var s = _current;
        if (s == null) return;
        t.OwnerScope = s;
        s._owned.Add(t);
    }

    /// <summary>Moves a tensor to the parent of its scope (untracked at the outermost level).</summary>
    internal static void MoveOut(Tensor t) => Adopt(t.OwnerScope?._parent, t);

    /// <summary>Gives ownership of <paramref name="t"/> to <paramref name="scope"/> (null: untracked).</summary>
    internal static void Adopt(TensorScope? scope, Tensor t)
    {
        t.OwnerScope = scope;
        scope?._owned.Add(t);
    }

    /// <summary>Releases every tensor still owned and makes the parent scope current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_current != this)
            throw new InvalidOperationException("TensorScope disposed out of order (scopes must nest)");
        _current = _parent;
        foreach (var t in _owned)
            if (t.OwnerScope == this) t.Dispose();
        _owned.Clear();
    }
}
