namespace DiffKernels.Kernels;

/// <summary>Elementwise unary op codes understood by <see cref="KernelMath"/> (the host maps its enum onto them).</summary>
internal static class UnaryCode
{
    public const int Neg = 0, Exp = 1, Log = 2, Sqrt = 3, Rsqrt = 4, Abs = 5, Square = 6, Relu = 7, LeakyRelu = 8,
        Silu = 9, Gelu = 10, Sigmoid = 11, Tanh = 12, Softplus = 13, AddScalar = 14, MulScalar = 15, PowScalar = 16, Clamp = 17;
}

/// <summary>Elementwise binary op codes.</summary>
internal static class BinaryCode
{
    public const int Add = 0, Sub = 1, Mul = 2, Div = 3, Pow = 4, Maximum = 5, Minimum = 6, Equal = 7, Greater = 8;
}

/// <summary>Reduction op codes.</summary>
internal static class ReduceCode
{
    public const int Sum = 0, Max = 1, Min = 2;
}
