using DiffKernels.Backends;
using DiffKernels.Kernels;

namespace DiffKernels.Gpu;

/// <summary>Maps the core's op enums onto the kernels' op codes (the kernels do not depend on the core).</summary>
internal static class KernelCodes
{
    public static int Of(UnaryOp op) => op switch
    {
        UnaryOp.Neg => UnaryCode.Neg,
        UnaryOp.Exp => UnaryCode.Exp,
        UnaryOp.Log => UnaryCode.Log,
        UnaryOp.Sqrt => UnaryCode.Sqrt,
        UnaryOp.Rsqrt => UnaryCode.Rsqrt,
        UnaryOp.Abs => UnaryCode.Abs,
        UnaryOp.Square => UnaryCode.Square,
        UnaryOp.Relu => UnaryCode.Relu,
        UnaryOp.LeakyRelu => UnaryCode.LeakyRelu,
        UnaryOp.Silu => UnaryCode.Silu,
        UnaryOp.Gelu => UnaryCode.Gelu,
        UnaryOp.Sigmoid => UnaryCode.Sigmoid,
        UnaryOp.Tanh => UnaryCode.Tanh,
        UnaryOp.Softplus => UnaryCode.Softplus,
        UnaryOp.AddScalar => UnaryCode.AddScalar,
        UnaryOp.MulScalar => UnaryCode.MulScalar,
        UnaryOp.PowScalar => UnaryCode.PowScalar,
        UnaryOp.Clamp => UnaryCode.Clamp,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unary op without a GPU kernel"),
    };

    public static int Of(BinaryOp op) => op switch
    {
        BinaryOp.Add => BinaryCode.Add,
        BinaryOp.Sub => BinaryCode.Sub,
        BinaryOp.Mul => BinaryCode.Mul,
        BinaryOp.Div => BinaryCode.Div,
        BinaryOp.Pow => BinaryCode.Pow,
        BinaryOp.Maximum => BinaryCode.Maximum,
        BinaryOp.Minimum => BinaryCode.Minimum,
        BinaryOp.Equal => BinaryCode.Equal,
        BinaryOp.Greater => BinaryCode.Greater,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "binary op without a GPU kernel"),
    };

    public static int Of(ReduceOp op) => op switch
    {
        ReduceOp.Sum => ReduceCode.Sum,
        ReduceOp.Max => ReduceCode.Max,
        ReduceOp.Min => ReduceCode.Min,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "reduction without a GPU kernel"),
    };
}
