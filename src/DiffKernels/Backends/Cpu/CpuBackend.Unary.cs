using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>Elements per block of the composite (several-pass) vector paths: the block stays in L1.</summary>
    private const int UnaryBlock = 1024;

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long n, float alpha, float beta)
    {
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        CpuParallel.For(n, 8, (s, e) =>
        {
            ReadOnlySpan<float> xs = xv.AsSpan((int)s, (int)(e - s));
            var ys = yv.AsSpan((int)s, (int)(e - s));
            switch (op)
            {
                case UnaryOp.Neg: TensorPrimitives.Negate(xs, ys); break;
                case UnaryOp.Exp: TensorPrimitives.Exp(xs, ys); break;
                case UnaryOp.Log: TensorPrimitives.Log(xs, ys); break;
                case UnaryOp.Sqrt: TensorPrimitives.Sqrt(xs, ys); break;
                case UnaryOp.Abs: TensorPrimitives.Abs(xs, ys); break;
                case UnaryOp.Square: TensorPrimitives.Multiply(xs, xs, ys); break;
                case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(xs, ys); break;
                case UnaryOp.Tanh: TensorPrimitives.Tanh(xs, ys); break;
                case UnaryOp.AddScalar: TensorPrimitives.Add(xs, alpha, ys); break;
                case UnaryOp.MulScalar: TensorPrimitives.Multiply(xs, alpha, ys); break;
                case UnaryOp.Relu: TensorPrimitives.Max(xs, 0f, ys); break;
                case UnaryOp.Clamp: TensorPrimitives.Min(xs, beta, ys); TensorPrimitives.Max(ys, alpha, ys); break;
                case UnaryOp.Silu: SiluBlocks(xs, ys); break;
                default:
                    for (int i = 0; i < xs.Length; i++) ys[i] = UnaryMath.Forward(op, xs[i], alpha, beta);
                    break;
            }
        });
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long n, float alpha, float beta)
    {
        var xv = ((CpuBuffer)x).Data;
        var yv = ((CpuBuffer)y).Data;
        var gv = ((CpuBuffer)dy).Data;
        var dv = ((CpuBuffer)dx).Data;
        CpuParallel.For(n, 8, (s, e) =>
        {
            int start = (int)s, len = (int)(e - s);
            ReadOnlySpan<float> xs = xv.AsSpan(start, len), ys = yv.AsSpan(start, len), gs = gv.AsSpan(start, len);
            var ds = dv.AsSpan(start, len);
            switch (op)
            {
                case UnaryOp.Neg: TensorPrimitives.Negate(gs, ds); break;
                case UnaryOp.Exp: TensorPrimitives.Multiply(gs, ys, ds); break;
                case UnaryOp.AddScalar: gs.CopyTo(ds); break;
                case UnaryOp.MulScalar: TensorPrimitives.Multiply(gs, alpha, ds); break;
                case UnaryOp.Square: TensorPrimitives.Multiply(gs, xs, ds); TensorPrimitives.Multiply(ds, 2f, ds); break;
                case UnaryOp.Silu: SiluBackwardBlocks(xs, gs, ds); break;
                case UnaryOp.Sigmoid: DerivativeFromOutput(ys, gs, ds, tanh: false); break;
                case UnaryOp.Tanh: DerivativeFromOutput(ys, gs, ds, tanh: true); break;
                default:
                    for (int i = 0; i < len; i++) ds[i] = gs[i] * UnaryMath.Derivative(op, xs[i], ys[i], alpha, beta);
                    break;
            }
        });
    }

    /// <summary>y = x / (1 + e^(−x)) block by block; y may be x.</summary>
    private static void SiluBlocks(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> t = stackalloc float[UnaryBlock];
        for (int i = 0; i < x.Length; i += UnaryBlock)
        {
            int len = Math.Min(UnaryBlock, x.Length - i);
            var tb = t[..len];
            TensorPrimitives.Negate(x.Slice(i, len), tb);
            TensorPrimitives.Exp(tb, tb);
            TensorPrimitives.Add(tb, 1f, tb);
            TensorPrimitives.Divide(x.Slice(i, len), tb, y.Slice(i, len));
        }
    }

    /// <summary>dx = dy·σ(x)·(1 + x·(1 − σ(x))) block by block; dx may alias dy.</summary>
    private static void SiluBackwardBlocks(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Span<float> s = stackalloc float[UnaryBlock];
        Span<float> t = stackalloc float[UnaryBlock];
        for (int i = 0; i < x.Length; i += UnaryBlock)
        {
            int len = Math.Min(UnaryBlock, x.Length - i);
            var xb = x.Slice(i, len);
            var sb = s[..len];
            var tb = t[..len];
            TensorPrimitives.Sigmoid(xb, sb);
            TensorPrimitives.Subtract(1f, sb, tb);
            TensorPrimitives.MultiplyAdd(xb, tb, 1f, tb);
            TensorPrimitives.Multiply(tb, sb, tb);
            TensorPrimitives.Multiply(dy.Slice(i, len), tb, dx.Slice(i, len));
        }
    }

    /// <summary>dx = dy·y·(1 − y) (sigmoid) or dy·(1 − y²) (tanh), from the saved output y.</summary>
    private static void DerivativeFromOutput(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool tanh)
    {
        Span<float> t = stackalloc float[UnaryBlock];
        for (int i = 0; i < y.Length; i += UnaryBlock)
        {
            int len = Math.Min(UnaryBlock, y.Length - i);
            var yb = y.Slice(i, len);
            var tb = t[..len];
            if (tanh)
            {
                TensorPrimitives.Multiply(yb, yb, tb);
                TensorPrimitives.Subtract(1f, tb, tb);
            }
            else
            {
                TensorPrimitives.Subtract(1f, yb, tb);
                TensorPrimitives.Multiply(tb, yb, tb);
            }
            TensorPrimitives.Multiply(dy.Slice(i, len), tb, dx.Slice(i, len));
        }
    }
}
