using System.Globalization;
using DiffKernels.Backends;
using DiffKernels.Nn;
using DiffKernels.Tensors;

namespace DiffKernels.Optim;

/// <summary>
/// Adam with bias-corrected moments and optional L2 weight decay (wd·p added to the gradient).
/// Parameters whose <see cref="Tensor.Grad"/> is null are skipped and keep their own step count.
/// Hyperparameters may be changed between steps. Moments are allocated lazily, untracked, and released
/// by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// The optimiser puts its parameters in a <see cref="ParameterArena"/> when they can share one (see
/// <see cref="ParameterArena.Unsuitable"/>; e.g. not when another live optimiser's arena holds them). Then, in the
/// common case where every parameter has a gradient from a backward pass and all share one step count, a step is one
/// backend pass over the whole arena (its moments laid out like it), which can also apply a clipping scale and move an
/// EMA (<see cref="StepInOnePass"/>); otherwise, and without an arena, each parameter's update is one fused backend
/// pass. Both give the same values bit for bit, and the state dict is the same.
/// </remarks>
public class Adam : IDisposable
{
    private readonly Tensor[] _params;
    private readonly Tensor?[] _m;
    private readonly Tensor?[] _v;
    private readonly int[] _steps;
    private readonly ParameterArena? _arena;
    private DeviceBuffer? _mArena;
    private DeviceBuffer? _vArena;

    /// <summary>Creates the optimiser over <paramref name="parameters"/> (leaf tensors requiring grad, each once).</summary>
    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f, float weightDecay = 0f)
        : this(parameters, lr, beta1, beta2, eps, weightDecay, decoupled: false)
    {
    }

    /// <summary>Shared constructor; <paramref name="decoupled"/> selects AdamW's decay.</summary>
    protected Adam(IEnumerable<Tensor> parameters, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled)
    {
        _params = parameters.ToArray();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            if (!p.IsLeaf || !p.RequiresGrad)
                throw new ArgumentException($"{GetType().Name}: parameter {i} ({p.Name ?? p.Shape.ToString()}) must be a leaf that requires grad");
            if (!seen.Add(p)) throw new ArgumentException($"{GetType().Name}: parameter {i} ({p.Name ?? p.Shape.ToString()}) is listed twice");
        }
        _m = new Tensor?[_params.Length];
        _v = new Tensor?[_params.Length];
        _steps = new int[_params.Length];
        _arena = ParameterArena.TryCreate(_params);
        Decoupled = decoupled;
        Lr = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    /// <summary>The optimised parameters, in order (state-dict keys use these indices).</summary>
    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>The arena the parameters live in, or null when they could not share one.</summary>
    public ParameterArena? Arena => _arena;

    /// <summary>
    /// True when the next step can be one pass over the arena: it is live, every parameter's gradient lies in its
    /// slot, and every parameter has had the same number of updates.
    /// </summary>
    public bool CanStepInOnePass => _arena is { HoldsAllGradients: true } && _steps.All(s => s == _steps[0]);

    /// <summary>True for AdamW (decay applied to the parameter, not the gradient).</summary>
    public bool Decoupled { get; }

    /// <summary>Learning rate used by the next <see cref="Step"/>.</summary>
    public float Lr
    {
        get;
        set => field = value >= 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(Lr), $"{GetType().Name}: learning rate {value} must be finite and ≥ 0");
    }

    /// <summary>First-moment decay β₁ in [0, 1); 0 disables momentum.</summary>
    public float Beta1
    {
        get;
        set => field = value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Beta1), $"{GetType().Name}: beta1 {value} must be in [0, 1)");
    }

    /// <summary>Second-moment decay β₂ in [0, 1).</summary>
    public float Beta2
    {
        get;
        set => field = value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(nameof(Beta2), $"{GetType().Name}: beta2 {value} must be in [0, 1)");
    }

    /// <summary>Denominator floor ε (≥ 0).</summary>
    public float Eps
    {
        get;
        set => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Eps), $"{GetType().Name}: eps {value} must be ≥ 0");
    }

    /// <summary>Weight decay (≥ 0): L2 for Adam, decoupled for AdamW.</summary>
    public float WeightDecay
    {
        get;
        set => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(WeightDecay), $"{GetType().Name}: weight decay {value} must be ≥ 0");
    }

    /// <summary>Number of updates applied to parameter <paramref name="index"/>.</summary>
    public int StepCount(int index) => _steps[index];

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        if (CanStepInOnePass)
        {
            StepArena(1f, null, 0f);
            return;
        }
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            var g = p.Grad;
            if (g == null) continue;
            if (g.Device != p.Device)
                throw new InvalidOperationException($"{GetType().Name}: gradient of parameter {i} is on {g.Device}, the parameter on {p.Device}");
            _m[i] ??= Parameter.Untracked(Tensor.Zeros(p.Shape, p.Device));
            _v[i] ??= Parameter.Untracked(Tensor.Zeros(p.Shape, p.Device));
            _steps[i]++;
            p.Backend.AdamStep(p.Storage, g.Storage, _m[i]!.Storage, _v[i]!.Storage, p.Numel,
                Lr, Beta1, Beta2, Eps, WeightDecay, Decoupled, _steps[i]);
        }
    }

    /// <summary>
    /// One update of every parameter in one backend pass over the arena (needs <see cref="CanStepInOnePass"/>), the
    /// gradients multiplied by <paramref name="gradScale"/> on the way (clipping; the gradients themselves are left as
    /// they are) and, given an <paramref name="ema"/> that follows the arena (<see cref="Ema.TryFollow"/>), its shadows
    /// moved towards the new values with β = <paramref name="emaBeta"/> in the same pass. The same values, bit for bit,
    /// as scaling the gradients, <see cref="Step"/> and <see cref="Ema.Update"/> one after another.
    /// </summary>
    public void StepInOnePass(float gradScale = 1f, Ema? ema = null, float emaBeta = 0f)
    {
        if (!CanStepInOnePass)
            throw new InvalidOperationException($"{GetType().Name}.StepInOnePass: {(_arena == null ? "the parameters have no arena" : "a gradient is missing or not in its arena slot, or the step counts differ")}");
        if (!(gradScale >= 0 && float.IsFinite(gradScale)))
            throw new ArgumentOutOfRangeException(nameof(gradScale), $"{GetType().Name}.StepInOnePass: gradient scale {gradScale} must be finite and ≥ 0");
        DeviceBuffer? shadow = null;
        if (ema != null)
        {
            if (!(emaBeta >= 0 && emaBeta <= 1)) throw new ArgumentOutOfRangeException(nameof(emaBeta), $"{GetType().Name}.StepInOnePass: EMA beta {emaBeta} must be in [0, 1]");
            shadow = ema.ShadowsFor(_arena) ?? throw new ArgumentException($"{GetType().Name}.StepInOnePass: the EMA does not follow this optimiser's arena (Ema.TryFollow)", nameof(ema));
        }
        StepArena(gradScale, shadow, 1f - emaBeta);
    }

    /// <summary>The whole arena's update; moments move into the arena's layout on the first one.</summary>
    private void StepArena(float gradScale, DeviceBuffer? shadow, float emaWeight)
    {
        var arena = _arena!;
        MomentsIntoArena(arena);
        int step = _steps[0] + 1;
        Array.Fill(_steps, step);
        arena.Device.Backend.AdamEmaStep(arena.Values, arena.Gradients, _mArena!, _vArena!, shadow, arena.Length,
            Lr, Beta1, Beta2, Eps, WeightDecay, Decoupled, step, gradScale, emaWeight);
    }

    /// <summary>
    /// Lays the moments out like the arena (zero where a parameter has none yet), copying any kept per parameter
    /// (fallback steps, a loaded state) into their slots; from then on every moment tensor is its slot.
    /// </summary>
    private void MomentsIntoArena(ParameterArena arena)
    {
        if (_mArena != null) return;
        var be = arena.Device.Backend;
        (_mArena, _vArena) = (be.Allocate(arena.Length), be.Allocate(arena.Length));
        be.Fill(_mArena, 0, arena.Length, 0f);
        be.Fill(_vArena, 0, arena.Length, 0f);
        for (int i = 0; i < _params.Length; i++)
        {
            _m[i] = IntoSlot(_m[i], _mArena, arena.Offset(i), _params[i]);
            _v[i] = IntoSlot(_v[i], _vArena, arena.Offset(i), _params[i]);
        }
    }

    private static Tensor IntoSlot(Tensor? moment, DeviceBuffer buffer, long offset, Tensor like)
    {
        var slot = Parameter.Untracked(new Tensor(like.Shape, buffer.Slice(offset, like.Numel), like.Device));
        if (moment == null) return slot;
        Parameter.CopyInto(slot, moment);
        moment.Dispose();
        return slot;
    }

    /// <summary>Drops the gradient of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _params) p.ZeroGrad();
    }

    /// <summary>
    /// The state needed for an exact resume, for every parameter updated at least once:
    /// "{i}.exp_avg" and "{i}.exp_avg_sq" (the optimiser's own moment tensors: save, do not dispose)
    /// and "{i}.step" (a new scalar owned by the current scope). Hyperparameters are not included.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var d = new OrderedDictionary<string, Tensor>();
        for (int i = 0; i < _params.Length; i++)
        {
            if (_steps[i] == 0) continue;
            d.Add(Key(i, "exp_avg"), _m[i]!);
            d.Add(Key(i, "exp_avg_sq"), _v[i]!);
            d.Add(Key(i, "step"), Tensor.Scalar(_steps[i], _params[i].Device));
        }
        return d;
    }

    /// <summary>
    /// Replaces the whole state with <paramref name="state"/> (as produced by <see cref="StateDict"/>):
    /// parameters absent from it start fresh. Keys, shapes and step values are all checked first.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var steps = new int[_params.Length];
        var problems = new List<string>();
        var known = new HashSet<string>();
        for (int i = 0; i < _params.Length; i++)
        {
            string sk = Key(i, "step"), mk = Key(i, "exp_avg"), vk = Key(i, "exp_avg_sq");
            bool hasStep = state.TryGetValue(sk, out var st), hasM = state.TryGetValue(mk, out var m), hasV = state.TryGetValue(vk, out var v);
            if (!hasStep && !hasM && !hasV) continue;
            known.UnionWith([sk, mk, vk]);
            if (!(hasStep && hasM && hasV)) { problems.Add($"parameter {i} needs all of {sk}, {mk}, {vk}"); continue; }
            if (m!.Shape != _params[i].Shape) problems.Add($"{mk} has shape {m.Shape}, parameter {i} has {_params[i].Shape}");
            if (v!.Shape != _params[i].Shape) problems.Add($"{vk} has shape {v.Shape}, parameter {i} has {_params[i].Shape}");
            float s = st!.Numel == 1 ? st.Item() : float.NaN;
            if (!(s >= 1 && s == MathF.Round(s) && s <= int.MaxValue)) problems.Add($"{sk} must be a positive whole number, got {(st.Numel == 1 ? s.ToString(CultureInfo.InvariantCulture) : st.Shape.ToString())}");
            else steps[i] = (int)s;
        }
        var unexpected = state.Keys.Where(k => !known.Contains(k)).ToList();
        if (unexpected.Count > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
        if (problems.Count > 0)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: {string.Join("; ", problems)}");

        for (int i = 0; i < _params.Length; i++)
        {
            _steps[i] = steps[i];
            if (steps[i] == 0 && _mArena != null)
            {
                // The moments stay in their arena slots, at the zeros a fresh parameter starts from.
                _m[i]!.Backend.Fill(_m[i]!.Storage, 0, _m[i]!.Numel, 0f);
                _v[i]!.Backend.Fill(_v[i]!.Storage, 0, _v[i]!.Numel, 0f);
                continue;
            }
            if (steps[i] == 0)
            {
                _m[i]?.Dispose();
                _v[i]?.Dispose();
                _m[i] = _v[i] = null;
                continue;
            }
            _m[i] ??= Parameter.Untracked(Tensor.Empty(_params[i].Shape, _params[i].Device));
            _v[i] ??= Parameter.Untracked(Tensor.Empty(_params[i].Shape, _params[i].Device));
            Parameter.CopyInto(_m[i]!, state[Key(i, "exp_avg")]);
            Parameter.CopyInto(_v[i]!, state[Key(i, "exp_avg_sq")]);
        }
    }

    private static string Key(int i, string what) => string.Create(CultureInfo.InvariantCulture, $"{i}.{what}");

    /// <summary>Releases the moment tensors and the arena (the parameters keep their values and stay valid).</summary>
    public void Dispose()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            _m[i]?.Dispose();
            _v[i]?.Dispose();
            _m[i] = _v[i] = null;
        }
        _mArena?.Release();
        _vArena?.Release();
        _mArena = _vArena = null;
        _arena?.Dispose();
    }
}
