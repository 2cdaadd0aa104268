using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// Base of every network building block: owns named parameters and named submodules, registered
/// explicitly by the subclass constructor, in registration order. Names compose PyTorch-style
/// (<c>down.0.conv1.weight</c>), so state dicts interoperate with checkpoints that use that scheme.
/// Disposing a module releases its parameters and those of its submodules.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Tensor Tensor)> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];
    private readonly Dictionary<(string Name, Device Device), Tensor> _constants = [];
    private bool _disposed;

    /// <summary>True in training mode (the default); layers such as dropout read it.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>
    /// Registers a parameter under <paramref name="name"/> (no dots, unique in this module). The
    /// tensor becomes a parameter: untracked by scopes and requiring grad. Returns it.
    /// </summary>
    protected Tensor RegisterParameter(string name, Tensor tensor)
    {
        CheckName(name);
        Parameter.From(tensor);
        tensor.Name ??= name;
        _parameters.Add((name, tensor));
        return tensor;
    }

    /// <summary>Registers a submodule under <paramref name="name"/> (no dots, unique in this module). Returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"RegisterModule: '{name}' is the module itself");
        _children.Add((name, module));
        module.Train(Training);
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid name '{name}' (must be non-empty and contain no '.')");
        if (_parameters.Any(p => p.Name == name) || _children.Any(c => c.Name == name))
            throw new ArgumentException($"{GetType().Name}: name '{name}' is already registered");
    }

    /// <summary>The direct submodules with their names.</summary>
    public IEnumerable<(string Name, Module Module)> Children() => _children;

    /// <summary>
    /// Every parameter of this module and its descendants with its dotted name, depth-first in
    /// registration order, a module's own parameters before its children's (as PyTorch orders them).
    /// A tensor shared by several modules appears once, under its first name.
    /// </summary>
    public IEnumerable<(string Name, Tensor Parameter)> NamedParameters()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (name, t) in Walk(""))
            if (seen.Add(t)) yield return (name, t);
    }

    private IEnumerable<(string Name, Tensor Tensor)> Walk(string prefix)
    {
        foreach (var (name, t) in _parameters) yield return (prefix + name, t);
        foreach (var (name, m) in _children)
            foreach (var p in m.Walk(prefix + name + "."))
                yield return p;
    }

    /// <summary>Every parameter (see <see cref="NamedParameters"/>).</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount => Parameters().Sum(p => p.Numel);

    /// <summary>
    /// Name → parameter, in <see cref="NamedParameters"/> order. The tensors are the module's own
    /// (not copies): read or save them, do not dispose them.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>();
        foreach (var (name, t) in NamedParameters()) d.Add(name, t);
        return d;
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into the parameters of the same name (the
    /// parameter tensors stay the same objects, so optimisers holding them keep working). Names
    /// in the module but not in the dict are missing, the reverse unexpected: both are errors
    /// when <paramref name="strict"/>, ignored otherwise. A shape mismatch is always an error.
    /// Everything is checked before anything is copied.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var problems = new List<string>();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (strict && missing.Count > 0) problems.Add($"missing keys: {string.Join(", ", missing)}");
        if (strict && unexpected.Count > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        foreach (var (name, t) in own)
            if (state.TryGetValue(name, out var src) && src.Shape != t.Shape)
                problems.Add($"shape mismatch for '{name}': checkpoint {src.Shape}, model {t.Shape}");
        if (problems.Count > 0)
            throw new ArgumentException($"LoadStateDict into {GetType().Name}: {string.Join("; ", problems)}");
        foreach (var (name, t) in own)
            if (state.TryGetValue(name, out var src) && !ReferenceEquals(src, t))
                Parameter.CopyInto(t, src);
    }

    /// <summary>
    /// A constant of this module on <paramref name="device"/>, made from <paramref name="values"/> on first use and kept
    /// until the module is disposed; not a parameter and not in the state dict. A forward pass takes its fixed tables
    /// (class ids, position embeddings) from here instead of uploading them on every call, so it queues no host
    /// transfer, which a replayed GPU region could not repeat. Thread-safe.
    /// </summary>
    public Tensor Constant(string name, Device device, Shape shape, Func<float[]> values)
    {
        lock (_constants)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_constants.TryGetValue((name, device), out var cached)) return cached;
            var data = values();
            if (data.Length != shape.Numel)
                throw new ArgumentException($"{GetType().Name}.Constant '{name}': {data.Length} values for shape {shape}");
            var made = Parameter.Untracked(Tensor.FromSpan(data, shape, device));
            _constants[(name, device)] = made;
            return made;
        }
    }

    /// <summary>Drops the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>Sets training mode on this module and every descendant. Returns this module.</summary>
    public Module Train(bool training = true)
    {
        Training = training;
        foreach (var (_, m) in _children) m.Train(training);
        return this;
    }

    /// <summary>Sets evaluation mode (<c>Train(false)</c>). Returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>Releases the parameters of this module and its descendants (idempotent).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, t) in _parameters) t.Dispose();
        foreach (var (_, m) in _children) m.Dispose();
        lock (_constants)
        {
            foreach (var t in _constants.Values) t.Dispose();
            _constants.Clear();
        }
    }
}
