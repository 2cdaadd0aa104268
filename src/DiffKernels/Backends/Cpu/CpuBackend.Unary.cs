using System.Numerics.Tensors;

namespace DiffKernels.Backends.Cpu;

public sealed partial class CpuBackend
{
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
            for (long i = s; i < e; i++) dv[i] = gv[i] * UnaryMath.Derivative(op, xv[i], yv[i], alpha, beta);
        });
    }
}
