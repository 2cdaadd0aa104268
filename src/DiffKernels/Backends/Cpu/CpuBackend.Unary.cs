using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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
                case UnaryOp.Silu: VectorBlocks<SiluFn>(xs, ys); break;
                case UnaryOp.Gelu: VectorBlocks<GeluFn>(xs, ys); break;
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
                case UnaryOp.Silu: VectorBackwardBlocks<SiluFn>(xs, gs, ds); break;
                case UnaryOp.Gelu: VectorBackwardBlocks<GeluFn>(xs, gs, ds); break;
                case UnaryOp.Sigmoid: DerivativeFromOutput(ys, gs, ds, tanh: false); break;
                case UnaryOp.Tanh: DerivativeFromOutput(ys, gs, ds, tanh: true); break;
                default:
                    for (int i = 0; i < len; i++) ds[i] = gs[i] * UnaryMath.Derivative(op, xs[i], ys[i], alpha, beta);
                    break;
            }
        });
    }

    /// <summary>An activation and its derivative on a vector; a struct type argument, so each loop is compiled with it inlined.</summary>
    private interface IVectorActivation
    {
        static abstract Vector256<float> Forward(Vector256<float> x);
        static abstract Vector256<float> Derivative(Vector256<float> x);
    }

    private readonly struct SiluFn : IVectorActivation
    {
        public static Vector256<float> Forward(Vector256<float> x) => SimdMath.Silu(x);
        public static Vector256<float> Derivative(Vector256<float> x) => SimdMath.SiluDerivative(x);
    }

    private readonly struct GeluFn : IVectorActivation
    {
        public static Vector256<float> Forward(Vector256<float> x) => SimdMath.Gelu(x);
        public static Vector256<float> Derivative(Vector256<float> x) => SimdMath.GeluDerivative(x);
    }

    /// <summary>y = f(x) in one vector pass; y may be x.</summary>
    private static unsafe void VectorBlocks<TF>(ReadOnlySpan<float> x, Span<float> y) where TF : struct, IVectorActivation
    {
        int w = SimdMath.Width, i = 0;
        fixed (float* px = x, py = y)
        {
            for (; i + w <= x.Length; i += w) Vector256.Store(TF.Forward(Vector256.Load(px + i)), py + i);
            if (i == x.Length) return;
            // The tail goes through a padded vector, so it gets the same arithmetic as the rest.
            float* t = stackalloc float[w];
            new Span<float>(t, w).Clear();
            x[i..].CopyTo(new Span<float>(t, w));
            Vector256.Store(TF.Forward(Vector256.Load(t)), t);
            new Span<float>(t, x.Length - i).CopyTo(y[i..]);
        }
    }

    /// <summary>dx = dy·f′(x) in one vector pass; dx may alias dy.</summary>
    private static unsafe void VectorBackwardBlocks<TF>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) where TF : struct, IVectorActivation
    {
        int w = SimdMath.Width, i = 0;
        fixed (float* px = x, pg = dy, pd = dx)
        {
            for (; i + w <= x.Length; i += w)
                Vector256.Store(Vector256.Load(pg + i) * TF.Derivative(Vector256.Load(px + i)), pd + i);
            if (i == x.Length) return;
            float* t = stackalloc float[2 * w];
            new Span<float>(t, 2 * w).Clear();
            x[i..].CopyTo(new Span<float>(t, w));
            dy[i..].CopyTo(new Span<float>(t + w, w));
            Vector256.Store(Vector256.Load(t + w) * TF.Derivative(Vector256.Load(t)), t);
            new Span<float>(t, x.Length - i).CopyTo(dx[i..]);
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
