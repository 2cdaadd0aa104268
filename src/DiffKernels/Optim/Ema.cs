using DiffKernels.Backends;
using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Optim;

/// <summary>
/// Exponential moving average of a module's parameters: untracked shadow copies, updated with
/// shadow ← β·shadow + (1 − β)·p by one backend lerp per parameter, or by one lerp in all once the shadows follow a
/// <see cref="ParameterArena"/> of the same parameters (<see cref="TryFollow"/>), whose optimiser can then move them in
/// its own step (<see cref="Adam.StepInOnePass"/>). The shadows are keyed by the module's parameter names, so they
/// save and load like a state dict.
/// </summary>
public sealed class Ema : IDisposable
{
    private readonly (string Name, Tensor Source, Tensor Shadow)[] _entries;
    private readonly OrderedDictionary<string, Tensor> _shadow = new();
    private ParameterArena? _arena;
    private DeviceBuffer? _flat;

    /// <summary>Starts the average at the current parameter values of <paramref name="source"/>.</summary>
    public Ema(Module source)
    {
        _entries = source.NamedParameters()
            .Select(p =>
            {
                var copy = Parameter.Untracked(Tensor.Empty(p.Parameter.Shape, p.Parameter.Device));
                Parameter.CopyInto(copy, p.Parameter);
                return (p.Name, p.Parameter, copy);
            })
            .ToArray();
        foreach (var (name, _, shadow) in _entries) _shadow.Add(name, shadow);
    }

    /// <summary>Name → shadow tensor (the EMA's own tensors: save them, do not dispose them).</summary>
    public IReadOnlyDictionary<string, Tensor> Shadow => _shadow;

    /// <summary>Moves every shadow towards its parameter: shadow ← β·shadow + (1 − β)·p, β in [0, 1].</summary>
    public void Update(float beta)
    {
        if (!(beta >= 0 && beta <= 1)) throw new ArgumentOutOfRangeException(nameof(beta), $"Ema.Update: beta {beta} must be in [0, 1]");
        if (ShadowsFor(_arena) is { } flat)
        {
            // Per element the same lerp as one call per parameter; what lies between slots is addressed by no tensor.
            _arena!.Device.Backend.Lerp(flat, _arena.Values, _arena.Length, 1f - beta);
            return;
        }
        foreach (var (_, src, shadow) in _entries)
            shadow.Backend.Lerp(shadow.Storage, src.Storage, shadow.Numel, 1f - beta);
    }

    /// <summary>
    /// Lays the shadows out as <paramref name="arena"/> lays out their parameters (one buffer, the same offsets) when
    /// this EMA averages exactly the arena's parameters in its order and no other tensor shares a shadow's memory;
    /// returns whether the shadows follow the arena (again true on later calls). The shadow tensors stay the same
    /// objects with the same values.
    /// </summary>
    public bool TryFollow(ParameterArena arena)
    {
        if (ReferenceEquals(_arena, arena)) return !arena.IsDisposed;
        if (arena.IsDisposed || arena.Parameters.Count != _entries.Length) return false;
        for (int i = 0; i < _entries.Length; i++)
            if (!ReferenceEquals(arena.Parameters[i], _entries[i].Source) || _entries[i].Shadow.Storage.IsShared) return false;
        var be = arena.Device.Backend;
        var flat = be.Allocate(arena.Length);
        be.Fill(flat, 0, arena.Length, 0f);
        for (int i = 0; i < _entries.Length; i++)
        {
            var shadow = _entries[i].Shadow;
            var slice = flat.Slice(arena.Offset(i), shadow.Numel);
            var s = shadow.Shape.Strides();
            be.CopyStrided(shadow.Storage, 0, s, slice, 0, s, shadow.Shape);
            shadow.RebindStorage(slice);
        }
        _flat?.Release();
        (_flat, _arena) = (flat, arena);
        return true;
    }

    /// <summary>The shadows' buffer when they follow <paramref name="arena"/> and it is live, else null.</summary>
    internal DeviceBuffer? ShadowsFor(ParameterArena? arena) =>
        arena != null && ReferenceEquals(arena, _arena) && !arena.IsDisposed ? _flat : null;

    /// <summary>Writes the averaged values into <paramref name="target"/> (same parameter names and shapes).</summary>
    public void CopyTo(Module target) => target.LoadStateDict(_shadow, strict: true);

    /// <summary>Replaces the shadow values (resume from a checkpoint); names and shapes must match exactly.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> shadow)
    {
        var missing = _shadow.Keys.Where(k => !shadow.ContainsKey(k)).ToList();
        var unexpected = shadow.Keys.Where(k => !_shadow.ContainsKey(k)).ToList();
        var mismatched = _shadow.Where(kv => shadow.TryGetValue(kv.Key, out var t) && t.Shape != kv.Value.Shape)
            .Select(kv => $"{kv.Key} ({shadow[kv.Key].Shape} vs {kv.Value.Shape})").ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
            throw new ArgumentException($"Ema.Load: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}], shape mismatch [{string.Join(", ", mismatched)}]");
        foreach (var (name, t) in _shadow) Parameter.CopyInto(t, shadow[name]);
    }

    /// <summary>
    /// The EDM half-life rule: β = 0.5^(batch / h), so the average forgets half its weight every
    /// <paramref name="halfLifeImages"/> training images. With a <paramref name="rampRatio"/> the
    /// half-life is min(h, ratio·imagesSeen), keeping early averages from lagging far behind.
    /// </summary>
    public static float HalfLifeBeta(long batchSize, double halfLifeImages, long imagesSeen = 0, double? rampRatio = null)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"Ema.HalfLifeBeta: batch size {batchSize} must be positive");
        if (!(halfLifeImages > 0)) throw new ArgumentOutOfRangeException(nameof(halfLifeImages), $"Ema.HalfLifeBeta: half-life {halfLifeImages} must be positive");
        double h = halfLifeImages;
        if (rampRatio is { } r)
        {
            if (!(r > 0)) throw new ArgumentOutOfRangeException(nameof(rampRatio), $"Ema.HalfLifeBeta: ramp ratio {r} must be positive");
            h = Math.Min(h, r * imagesSeen);
        }
        // A zero half-life (start of a ramp) means "copy the weights": β = 0.
        return h <= 0 ? 0f : (float)Math.Pow(0.5, batchSize / h);
    }

    /// <summary>Releases the shadow tensors.</summary>
    public void Dispose()
    {
        foreach (var (_, _, shadow) in _entries) shadow.Dispose();
        _flat?.Release();
        _flat = null;
        _arena = null;
    }
}
