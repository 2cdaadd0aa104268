using DiffKernels.Backends;
using DiffKernels.Tensors;
using static DiffKernels.Autograd.Graph;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>Broadcasting a + b.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Add, a, b, "Add");
        return Record(y, "add", [a, b], dy => [SumToShape(dy, a.Shape), SumToShape(dy, b.Shape)]);
    }

    /// <summary>Broadcasting a − b.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Sub, a, b, "Sub");
        return Record(y, "sub", [a, b], dy => [SumToShape(dy, a.Shape), b.RequiresGrad ? SumToShape(MulScalar(dy, -1f), b.Shape) : null]);
    }

    /// <summary>Broadcasting a · b.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Mul, a, b, "Mul");
        return Record(y, "mul", [a, b], dy =>
        [
            a.RequiresGrad ? SumToShape(Mul(dy, b), a.Shape) : null,
            b.RequiresGrad ? SumToShape(Mul(dy, a), b.Shape) : null,
        ]);
    }

    /// <summary>Broadcasting a / b.</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Div, a, b, "Div");
        return Record(y, "div", [a, b], dy =>
        [
            a.RequiresGrad ? SumToShape(Div(dy, b), a.Shape) : null,
            b.RequiresGrad ? SumToShape(MulScalar(Div(Mul(dy, y), b), -1f), b.Shape) : null,
        ]);
    }

    /// <summary>Broadcasting a ^ b (a &gt; 0 where b is differentiated).</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Pow, a, b, "Pow");
        return Record(y, "pow", [a, b], dy =>
        [
            a.RequiresGrad ? SumToShape(Mul(dy, Mul(b, BinaryRaw(BinaryOp.Pow, a, AddScalar(b, -1f), "Pow"))), a.Shape) : null,
            b.RequiresGrad ? SumToShape(Mul(Mul(dy, y), Log(a)), b.Shape) : null,
        ]);
    }

    /// <summary>Broadcasting elementwise maximum; ties split the gradient evenly.</summary>
    public static Tensor Maximum(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Maximum, a, b, "Maximum");
        return Record(y, "maximum", [a, b], dy => TieSplit(dy, a, b, max: true));
    }

    /// <summary>Broadcasting elementwise minimum; ties split the gradient evenly.</summary>
    public static Tensor Minimum(Tensor a, Tensor b)
    {
        var y = BinaryRaw(BinaryOp.Minimum, a, b, "Minimum");
        return Record(y, "minimum", [a, b], dy => TieSplit(dy, a, b, max: false));
    }

    /// <summary>1 where a == b, else 0 (not differentiable).</summary>
    public static Tensor Equal(Tensor a, Tensor b) => BinaryRaw(BinaryOp.Equal, a, b, "Equal");

    /// <summary>1 where a &gt; b, else 0 (not differentiable).</summary>
    public static Tensor Greater(Tensor a, Tensor b) => BinaryRaw(BinaryOp.Greater, a, b, "Greater");

    /// <summary>Gradient of max(a, b) or min(a, b): all to the selected input, half each on ties.</summary>
    private static Tensor?[] TieSplit(Tensor dy, Tensor a, Tensor b, bool max)
    {
        var tie = MulScalar(Equal(a, b), 0.5f);
        var ma = Add(max ? Greater(a, b) : Greater(b, a), tie);
        var mb = Add(max ? Greater(b, a) : Greater(a, b), tie);
        return [a.RequiresGrad ? SumToShape(Mul(dy, ma), a.Shape) : null,
                b.RequiresGrad ? SumToShape(Mul(dy, mb), b.Shape) : null];
    }

    /// <summary>Computes op(a, b) with broadcasting, without recording.</summary>
    internal static Tensor BinaryRaw(BinaryOp op, Tensor a, Tensor b, string name)
    {
        SameDevice(name, a, b);
        var shape = Shape.Broadcast(a.Shape, b.Shape, name);
        var y = Tensor.Empty(shape, a.Device);
        a.Backend.Binary(op, a.Storage, a.Shape.BroadcastStrides(shape), b.Storage, b.Shape.BroadcastStrides(shape), y.Storage, shape);
        return y;
    }
}
