using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Elementwise <paramref name="cond"/> ≠ 0 ? <paramref name="a"/> : <paramref name="b"/>, broadcasting
    /// all three. Gradients flow to a where cond holds and to b elsewhere; cond gets none.
    /// </summary>
    public static Tensor Where(Tensor cond, Tensor a, Tensor b)
    {
        var y = WhereRaw(cond, a, b);
        return Autograd.Graph.Record(y, "where", [cond, a, b], dy =>
        {
            var zero = Tensor.Zeros(new Shape(), dy.Device);
            return [null,
                a.RequiresGrad ? SumToShape(WhereRaw(cond, dy, zero), a.Shape) : null,
                b.RequiresGrad ? SumToShape(WhereRaw(cond, zero, dy), b.Shape) : null];
        });
    }

    private static Tensor WhereRaw(Tensor cond, Tensor a, Tensor b)
    {
        SameDevice("Where", cond, a, b);
        Shape shape;
        try
        {
            shape = Shape.Broadcast(Shape.Broadcast(cond.Shape, a.Shape, "Where"), b.Shape, "Where");
        }
        catch (ArgumentException e)
        {
            // Restated so the message names all three operands, not just the failing pair.
            throw new ArgumentException($"Where: shapes cond {cond.Shape}, a {a.Shape} and b {b.Shape} cannot be broadcast together", e);
        }
        var y = Tensor.Empty(shape, a.Device);
        a.Backend.Where(cond.Storage, cond.Shape.BroadcastStrides(shape), a.Storage, a.Shape.BroadcastStrides(shape),
            b.Storage, b.Shape.BroadcastStrides(shape), y.Storage, shape);
        return y;
    }
}
