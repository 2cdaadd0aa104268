using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// Parameters are ordinary leaf tensors with <see cref="Tensor.RequiresGrad"/> set, owned by no
/// <see cref="TensorScope"/>: they live until their module is disposed, wherever they were made.
/// </summary>
public static class Parameter
{
    /// <summary>
    /// Turns a leaf tensor into a parameter in place: it leaves whatever scope made it (so a model
    /// built inside a scope survives the scope) and requires grad. Returns the same tensor.
    /// </summary>
    public static Tensor From(Tensor tensor)
    {
        if (!tensor.IsLeaf)
            throw new ArgumentException($"Parameter: tensor {tensor.Shape} was produced by op '{tensor.GradFn}'; a parameter must be a leaf (Detach it first)");
        Untracked(tensor);
        tensor.RequiresGrad = true;
        return tensor;
    }

    /// <summary>A zero-filled parameter.</summary>
    public static Tensor Zeros(Shape shape, Device? device = null) => From(Tensor.Zeros(shape, device));

    /// <summary>A one-filled parameter.</summary>
    public static Tensor Ones(Shape shape, Device? device = null) => From(Tensor.Ones(shape, device));

    /// <summary>
    /// Detaches <paramref name="tensor"/> from every scope so only an explicit Dispose releases it
    /// (parameters, optimiser moments, EMA shadows). Returns the same tensor.
    /// </summary>
    internal static Tensor Untracked(Tensor tensor)
    {
        TensorScope.Adopt(null, tensor);
        return tensor;
    }

    /// <summary>Copies the values of <paramref name="src"/> into <paramref name="dst"/> (same shape, any devices), outside the graph.</summary>
    internal static void CopyInto(Tensor dst, Tensor src)
    {
        if (dst.Shape != src.Shape)
            throw new ArgumentException($"copy: source shape {src.Shape} does not match destination shape {dst.Shape}");
        if (src.Device == dst.Device) F.CopyInto(dst, src);
        else dst.Backend.Upload(src.ToArray(), dst.Storage, 0);
    }
}
