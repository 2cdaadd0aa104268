using DiffKernels.Tensors;

namespace DiffKernels.Ops;

/// <summary>
/// The functional API: every op checks its arguments (messages name the op, the argument and the
/// shapes), dispatches to the tensors' backend and records its backward. One file per op family.
/// </summary>
public static partial class F
{
    /// <summary>Throws unless every tensor lives on the device of the first.</summary>
    internal static void SameDevice(string op, params Tensor[] ts)
    {
        for (int i = 1; i < ts.Length; i++)
            if (ts[i].Device != ts[0].Device)
                throw new ArgumentException($"{op}: tensors on different devices ({ts[0].Device} and {ts[i].Device})");
    }

    /// <summary>A new tensor with the same values (recorded: the gradient passes through).</summary>
    public static Tensor Copy(Tensor x) => Autograd.Graph.Record(CopyRaw(x), "copy", [x], dy => [dy]);

    /// <summary>A new tensor with the same values, not recorded.</summary>
    internal static Tensor CopyRaw(Tensor x)
    {
        var y = Tensor.Empty(x.Shape, x.Device);
        var s = x.Shape.Strides();
        x.Backend.CopyStrided(x.Storage, 0, s, y.Storage, 0, s, x.Shape);
        return y;
    }

    /// <summary>
    /// A new tensor over <paramref name="storage"/> (taking a reference on it) holding the values of <paramref name="x"/>,
    /// not recorded: a gradient copied into its arena slot.
    /// </summary>
    internal static Tensor CopyRawInto(Tensor x, Backends.DeviceBuffer storage)
    {
        storage.AddRef();
        var y = new Tensor(x.Shape, storage, x.Device);
        var s = x.Shape.Strides();
        x.Backend.CopyStrided(x.Storage, 0, s, y.Storage, 0, s, x.Shape);
        return y;
    }

    /// <summary>
    /// dst ← src in place (no graph; same shape and device): a step's inputs written into the fixed tensors a replayed
    /// region reads (<see cref="Backends.IGraphCapture"/>), or a region's result into the fixed tensor read after it.
    /// </summary>
    public static void CopyInto(Tensor dst, Tensor src)
    {
        if (dst.Shape != src.Shape) throw new ArgumentException($"CopyInto: shapes {dst.Shape} and {src.Shape} differ");
        SameDevice("CopyInto", dst, src);
        var s = dst.Shape.Strides();
        dst.Backend.CopyStrided(src.Storage, 0, s, dst.Storage, 0, s, dst.Shape);
    }

    /// <summary>x += y in place (no graph): gradient accumulation and optimiser state.</summary>
    public static void AddInPlace(Tensor x, Tensor y)
    {
        if (x.Shape != y.Shape) throw new ArgumentException($"AddInPlace: shapes {x.Shape} and {y.Shape} differ");
        SameDevice("AddInPlace", x, y);
        var s = x.Shape.Strides();
        x.Backend.Binary(Backends.BinaryOp.Add, x.Storage, s, y.Storage, s, x.Storage, x.Shape);
    }

    /// <summary>A view of <paramref name="x"/> with a new shape (one entry may be −1); shares memory.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var dims = (int[])shape.Clone();
        int infer = Array.IndexOf(dims, -1);
        if (infer >= 0)
        {
            long rest = 1;
            for (int i = 0; i < dims.Length; i++) if (i != infer) rest *= dims[i];
            if (rest == 0 || x.Numel % rest != 0)
                throw new ArgumentException($"Reshape: cannot infer -1 in [{string.Join(", ", shape)}] for {x.Numel} elements of {x.Shape}");
            dims[infer] = (int)(x.Numel / rest);
        }
        var target = new Shape(dims);
        if (target.Numel != x.Numel)
            throw new ArgumentException($"Reshape: shape {target} ({target.Numel} elements) does not match {x.Shape} ({x.Numel} elements)");
        x.Storage.AddRef();
        var y = new Tensor(target, x.Storage, x.Device);
        var xs = x.Shape.ToArray();
        return Autograd.Graph.Record(y, "reshape", [x], dy => [Reshape(dy, xs)]);
    }

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="shape"/> (NumPy rules), materialising it.</summary>
    public static Tensor BroadcastTo(Tensor x, Shape shape)
    {
        if (Shape.Broadcast(x.Shape, shape, "BroadcastTo") != shape)
            throw new ArgumentException($"BroadcastTo: shape {x.Shape} cannot be broadcast to {shape}");
        if (x.Shape == shape) return x;
        var y = Tensor.Empty(shape, x.Device);
        x.Backend.CopyStrided(x.Storage, 0, x.Shape.BroadcastStrides(shape), y.Storage, 0, shape.Strides(), shape);
        return Autograd.Graph.Record(y, "broadcast_to", [x], dy => [SumToShape(dy, x.Shape)]);
    }
}
