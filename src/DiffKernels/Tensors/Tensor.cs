using DiffKernels.Autograd;
using DiffKernels.Backends;

namespace DiffKernels.Tensors;

/// <summary>
/// A contiguous float32 tensor of rank 0–5 on a <see cref="Device"/>. Images are NHWC. Its memory is an
/// opaque <see cref="DeviceBuffer"/> owned by the device's backend; all ops go through the backend.
/// A tensor made inside <see cref="Scope"/> is released when the scope ends unless <see cref="Keep"/> is called.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private DeviceBuffer? _buffer;
    private bool _requiresGrad;
    private Tensor? _grad;

    internal Tensor(Shape shape, DeviceBuffer buffer, Device device)
    {
        Shape = shape;
        _buffer = buffer;
        Device = device;
        TensorScope.Register(this);
    }

    /// <summary>The shape.</summary>
    public Shape Shape { get; }

    /// <summary>The device whose backend holds the memory.</summary>
    public Device Device { get; }

    /// <summary>The backend of <see cref="Device"/>.</summary>
    public IBackend Backend => Device.Backend;

    /// <summary>Number of elements.</summary>
    public long Numel => Shape.Numel;

    /// <summary>Rank (number of dimensions).</summary>
    public int Rank => Shape.Rank;

    /// <summary>Optional name (parameters carry their state-dict name).</summary>
    public string? Name { get; set; }

    /// <summary>The storage; throws once the tensor is disposed.</summary>
    public DeviceBuffer Storage => _buffer ?? throw new ObjectDisposedException(nameof(Tensor), $"tensor {Name ?? Shape.ToString()} was disposed (its scope ended?)");

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _buffer == null;

    /// <summary>The scope that will dispose this tensor, or null when untracked.</summary>
    internal TensorScope? OwnerScope { get; set; }

    /// <summary>The recorded op that produced this tensor, or null for a leaf.</summary>
    internal GradNode? Node { get; set; }

    /// <summary>True for tensors not produced by a recorded op.</summary>
    public bool IsLeaf => Node == null;

    /// <summary>Name of the op that produced this tensor (null for leaves).</summary>
    public string? GradFn => Node?.Op;

    /// <summary>
    /// Whether gradients flow to this tensor. Settable only on leaves; a result of an op on such
    /// tensors requires grad unless recorded under <see cref="NoGrad"/>.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value) throw new InvalidOperationException("RequiresGrad cannot be cleared on a non-leaf tensor; use Detach()");
            _requiresGrad = value;
        }
    }

    /// <summary>Accumulated gradient of a leaf (same shape), or null. It lives as long as the tensor.</summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            if (value != null && value.Shape != Shape)
                throw new ArgumentException($"Grad: shape {value.Shape} does not match tensor shape {Shape}");
            if (!ReferenceEquals(_grad, value)) _grad?.Dispose();
            _grad = value;
        }
    }

    internal void MarkRequiresGrad() => _requiresGrad = true;

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (fluent).</summary>
    public Tensor RequireGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>Drops the gradient (it is released, not zero-filled).</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>Releases the memory (idempotent). Its gradient goes with it.</summary>
    public void Dispose()
    {
        var b = _buffer;
        if (b == null) return;
        _buffer = null;
        b.Release();
        Grad = null;
        Node = null;
    }

    /// <summary>
    /// Moves this tensor out of the current scope to the enclosing one (or makes it untracked at the
    /// outermost level), so it survives the scope's end. Returns this tensor.
    /// </summary>
    public Tensor Keep()
    {
        TensorScope.MoveOut(this);
        return this;
    }

    /// <summary>
    /// Takes this tensor out of every scope: it lives until disposed, by whatever holds it across steps (the fixed
    /// inputs of a replayed region, for instance). Returns this tensor.
    /// </summary>
    public Tensor Untrack()
    {
        TensorScope.Adopt(null, this);
        return this;
    }

    /// <summary>Starts a memory scope: tensors created until it is disposed are released then, except kept ones.</summary>
    public static TensorScope Scope() => TensorScope.Push();

    /// <summary>Disables graph recording until disposed.</summary>
    public static IDisposable NoGrad() => GradMode.Disable();

    /// <summary>A tensor sharing this one's memory, cut from the graph.</summary>
    public Tensor Detach()
    {
        Storage.AddRef();
        return new Tensor(Shape, Storage, Device);
    }

    /// <summary>
    /// Hands this tensor's memory to a new graph-free tensor of another shape (same element count)
    /// and disposes this one: a reshape for kernel results that were never visible to the caller.
    /// </summary>
    internal Tensor Rewrap(Shape shape)
    {
        var b = Storage;
        b.AddRef();
        Dispose();
        return new Tensor(shape, b, Device);
    }

    /// <summary>Copies the values to a new host array (a sync point).</summary>
    public float[] ToArray()
    {
        var a = new float[Numel];
        Backend.Download(Storage, 0, a);
        return a;
    }

    /// <summary>The single value of a one-element tensor (a sync point).</summary>
    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item: tensor of shape {Shape} has {Numel} elements, expected 1");
        Span<float> v = stackalloc float[1];
        Backend.Download(Storage, 0, v);
        return v[0];
    }

    /// <summary>
    /// Reverse-mode differentiation. With no argument the tensor must hold one element (dy = 1);
    /// otherwise computes the vector–Jacobian product with <paramref name="dy"/> (same shape).
    /// Gradients accumulate into the <see cref="Grad"/> of every leaf that requires grad.
    /// </summary>
    public void Backward(Tensor? dy = null) => Autograd.Backprop.Run(this, dy);

    /// <summary>Short description: shape, device, grad state.</summary>
    public override string ToString() =>
        $"Tensor{Shape} on {Device}{(RequiresGrad ? ", requires_grad" : "")}{(GradFn != null ? $", grad_fn={GradFn}" : "")}";
}
