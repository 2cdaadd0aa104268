using DiffKernels.Backends;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Optim;

/// <summary>
/// One contiguous home for the parameters of an optimiser, so that its step, the EMA of the same parameters and the
/// gradient norm are one backend call each instead of one or more per tensor (a few hundred GPU launches a step for
/// a UNet). Built over the parameters, it copies their values into one buffer and makes each parameter's storage a
/// slice of it (the tensors stay the same objects with the same values), and gives each a slot in one gradient
/// buffer: the first gradient a backward pass accumulates into a parameter is copied into its slot instead of a new
/// tensor, later ones add to it in place as before, and <see cref="Tensor.ZeroGrad"/> still drops it, so a parameter
/// without a gradient has a null <see cref="Tensor.Grad"/> exactly as without an arena.
/// </summary>
/// <remarks>
/// Slots start at multiples of <see cref="Alignment"/> elements. The gradient buffer is zero between slots and nothing
/// writes there (what <see cref="IBackend.SumOfSquares"/> asks); the other buffers laid out like it (values, moments,
/// EMA shadows) may hold anything between slots, which no tensor addresses.
/// Lifetime: the arena does not own the parameters, nor they it. Each parameter's storage is a slice that holds a
/// reference on the value buffer, and each gradient in a slot one on the gradient buffer, so the memory lives until the
/// arena and every tensor over it are released, in any order: disposing the arena leaves the parameters and their
/// current gradients valid (later gradients are tensors of their own again), and disposing a parameter leaves the
/// arena valid (its slot is then written by nobody's update but the arena's).
/// </remarks>
public sealed class ParameterArena : IDisposable
{
    /// <summary>Slots start at multiples of this many elements: 256 bytes, the alignment of a buffer of its own.</summary>
    public const int Alignment = 64;

    private readonly Tensor[] _params;
    private readonly long[] _offsets;
    private readonly long[] _lengths;
    private readonly DeviceBuffer[] _slots;
    private DeviceBuffer? _values;
    private DeviceBuffer? _grads;

    private ParameterArena(Tensor[] parameters)
    {
        _params = parameters;
        Device = parameters[0].Device;
        _offsets = new long[parameters.Length];
        _lengths = new long[parameters.Length];
        long end = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            _offsets[i] = (end + Alignment - 1) / Alignment * Alignment;
            _lengths[i] = parameters[i].Numel;
            end = _offsets[i] + _lengths[i];
        }
        Length = end;
        var be = Device.Backend;
        _values = be.Allocate(Length);
        _grads = be.Allocate(Length);
        be.Fill(_values, 0, Length, 0f);
        be.Fill(_grads, 0, Length, 0f);
        _slots = new DeviceBuffer[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var values = _values.Slice(_offsets[i], _lengths[i]);
            var s = p.Shape.Strides();
            be.CopyStrided(p.Storage, 0, s, values, 0, s, p.Shape);
            p.RebindStorage(values);
            _slots[i] = _grads.Slice(_offsets[i], _lengths[i]);
            p.GradSlot = _slots[i];
            if (p.Grad is { } g) p.Grad = SlotTensor(i, F.CopyRawInto(g, _slots[i]));
        }
    }

    /// <summary>
    /// An arena over <paramref name="parameters"/>, or null when they cannot share one (see <see cref="Unsuitable"/>);
    /// the parameters' values move into it at once.
    /// </summary>
    public static ParameterArena? TryCreate(IReadOnlyList<Tensor> parameters) =>
        Unsuitable(parameters) == null ? new ParameterArena([.. parameters]) : null;

    /// <summary>
    /// Why <paramref name="parameters"/> cannot share an arena, or null when they can: they must be live leaves on one
    /// device, each listed once, none in a live arena already, and none sharing its storage with another tensor (a
    /// view or a detached copy would go on reading the old memory).
    /// </summary>
    public static string? Unsuitable(IReadOnlyList<Tensor> parameters)
    {
        if (parameters.Count == 0) return "no parameters";
        var device = parameters[0].Device;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.IsDisposed) return $"parameter {i} is disposed";
            if (!p.IsLeaf) return $"parameter {i} is not a leaf";
            if (p.Device != device) return $"parameter {i} is on {p.Device}, parameter 0 on {device}";
            if (!seen.Add(p)) return $"parameter {i} is listed twice";
            if (p.GradSlot != null) return $"parameter {i} belongs to another arena";
            if (p.Storage.IsShared) return $"parameter {i} shares its storage with another tensor";
        }
        return null;
    }

    /// <summary>The parameters, in the order of their slots.</summary>
    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>The device of every parameter and buffer.</summary>
    public Device Device { get; }

    /// <summary>Elements of each buffer laid out like the arena, gaps between slots included.</summary>
    public long Length { get; }

    /// <summary>True once disposed (the parameters then keep their storage, and new gradients no longer go to slots).</summary>
    public bool IsDisposed => _values == null;

    /// <summary>Where parameter <paramref name="index"/>'s slot starts, in elements.</summary>
    public long Offset(int index) => _offsets[index];

    /// <summary>The parameters' values, slot by slot.</summary>
    internal DeviceBuffer Values => _values ?? throw Disposed();

    /// <summary>The gradient slots, zero between them.</summary>
    internal DeviceBuffer Gradients => _grads ?? throw Disposed();

    /// <summary>True while every parameter's gradient lies in its slot (what backward passes leave), so the gradient buffer holds them all.</summary>
    public bool HoldsAllGradients
    {
        get
        {
            if (IsDisposed) return false;
            for (int i = 0; i < _params.Length; i++)
                if (_params[i].Grad is not { } g || !ReferenceEquals(g.Storage, _slots[i])) return false;
            return true;
        }
    }

    /// <summary>
    /// Gives every parameter without a gradient a zero one in its slot: a data-parallel step reduces all gradients,
    /// since another rank may have the ones this rank lacks.
    /// </summary>
    public void ZeroMissingGradients()
    {
        var be = Device.Backend;
        for (int i = 0; i < _params.Length; i++)
        {
            if (_params[i].Grad != null) continue;
            be.Fill(_slots[i], 0, _lengths[i], 0f);
            _slots[i].AddRef();
            _params[i].Grad = SlotTensor(i, new Tensor(_params[i].Shape, _slots[i], Device));
        }
    }

    /// <summary>
    /// √(Σ‖grad‖²) over every parameter in one backend call (<see cref="IBackend.SumOfSquares"/>), only the final
    /// scalar read back; NaN or ∞ when a gradient holds one. On the CPU it equals <see cref="GradClip.GlobalNorm"/>
    /// bit for bit. Needs <see cref="HoldsAllGradients"/>.
    /// </summary>
    public float GradientNorm()
    {
        using var scope = Tensor.Scope();
        var sum = Tensor.Empty(new Shape(), Device);
        QueueSumOfSquares(sum.Storage, nameof(GradientNorm));
        return MathF.Sqrt(sum.Item());
    }

    /// <summary>Queues Σ‖grad‖² over every slot into <paramref name="sum"/> (one float), after checking every gradient is in its slot.</summary>
    private void QueueSumOfSquares(DeviceBuffer sum, string caller)
    {
        if (!HoldsAllGradients) throw new InvalidOperationException($"ParameterArena.{caller}: a parameter's gradient is missing or not in its slot");
        Device.Backend.SumOfSquares(Gradients, _offsets, _lengths, sum);
    }

    /// <summary>
    /// The scalar <paramref name="value"/> (a loss) and <see cref="GradientNorm"/>, read back together in one wait for
    /// the device instead of two: the norm is the same, bit for bit.
    /// </summary>
    public (float Value, float Norm) ReadWithGradientNorm(Tensor value)
    {
        if (value.Numel != 1) throw new ArgumentException($"ParameterArena.ReadWithGradientNorm: the value must be a scalar, got {value.Shape}");
        using var scope = Tensor.Scope();
        var be = Device.Backend;
        // The sum goes 4 floats in: device slices start at multiples of 4 elements.
        var both = Tensor.Empty(new Shape(8), Device);
        be.CopyStrided(value.Storage, 0, [1], both.Storage, 0, [1], new Shape(1));
        var sum = both.Storage.Slice(4, 1);
        try
        {
            QueueSumOfSquares(sum, nameof(ReadWithGradientNorm));
        }
        finally
        {
            sum.Release();
        }
        var host = both.ToArray();
        return (host[0], MathF.Sqrt(host[4]));
    }

    /// <summary>
    /// The whole gradient buffer as one 1-D tensor sharing its memory (dispose it when done): for an operation on
    /// every gradient at once, such as a data-parallel reduction. Its gaps are zero and must stay so.
    /// </summary>
    public Tensor GradientView()
    {
        Gradients.AddRef();
        return new Tensor(new Shape(checked((int)Length)), Gradients, Device);
    }

    /// <summary>Gives slot tensor <paramref name="grad"/> the owner scope of parameter <paramref name="index"/>, as a backward pass does.</summary>
    private Tensor SlotTensor(int index, Tensor grad)
    {
        TensorScope.Adopt(_params[index].OwnerScope, grad);
        return grad;
    }

    private ObjectDisposedException Disposed() => new(nameof(ParameterArena));

    /// <summary>Releases the arena's references (idempotent); parameters and gradients stay valid.</summary>
    public void Dispose()
    {
        if (_values == null) return;
        for (int i = 0; i < _params.Length; i++)
        {
            if (ReferenceEquals(_params[i].GradSlot, _slots[i])) _params[i].GradSlot = null;
            _slots[i].Release();
        }
        _values.Release();
        _grads!.Release();
        _values = _grads = null;
    }
}
