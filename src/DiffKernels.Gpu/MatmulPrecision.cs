namespace DiffKernels.Gpu;

/// <summary>
/// The arithmetic of the GPU backend's matrix products: <see cref="DiffKernels.Backends.IBackend.Gemm"/> and so every
/// matmul and linear layer, forward and backward. Convolutions and attention stay FP32 whatever it is.
/// </summary>
public enum MatmulPrecision
{
    /// <summary>FP32 FMAs (the default): the CPU backend's results up to summation order.</summary>
    Fp32,

    /// <summary>
    /// TF32 tensor cores: each operand rounded to 10 mantissa bits (round to nearest, ties away), products
    /// accumulated in FP32; about 2⁻¹¹ relative error per operand, as PyTorch's allow_tf32.
    /// </summary>
    Tf32,

    /// <summary>
    /// 3×TF32: each operand split into two TF32 halves and three tensor-core products summed, which leaves
    /// out only the product of the small halves (2⁻²² relative): close to FP32 accuracy at three times TF32's work.
    /// </summary>
    Tf32x3,
}

/// <summary>The names of <see cref="MatmulPrecision"/> and the environment variable that picks one.</summary>
public static class MatmulPrecisions
{
    /// <summary>The variable <see cref="GpuBackend.Create"/> reads when no precision is given: fp32 (or unset), tf32 or 3xtf32.</summary>
    public const string EnvironmentVariable = "DK_GPU_MATMUL";

    /// <summary>The names <see cref="Parse"/> accepts, in the order of the enum.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fp32", "tf32", "3xtf32"];

    /// <summary>The name of <paramref name="precision"/> ("fp32", "tf32" or "3xtf32").</summary>
    public static string Name(MatmulPrecision precision) => Names[(int)precision];

    /// <summary>The precision called <paramref name="text"/> (case-insensitive); errors name <paramref name="subject"/>.</summary>
    public static MatmulPrecision Parse(string text, string subject)
    {
        int i = Names.ToList().FindIndex(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? (MatmulPrecision)i : throw new InvalidInputException(subject, $"'{text}' is not a matmul precision; expected one of {string.Join(", ", Names)}");
    }

    /// <summary>The precision <see cref="EnvironmentVariable"/> names; FP32 when it is unset or empty.</summary>
    public static MatmulPrecision FromEnvironment()
    {
        string? value = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(value) ? MatmulPrecision.Fp32 : Parse(value, EnvironmentVariable);
    }
}
