using System.Runtime.CompilerServices;

namespace DiffKernels.Kernels;

/// <summary>
/// Scalar math shared by the kernels: the same formulas as the CPU reference (UnaryMath), written
/// without exceptions so the ILGPU front end accepts them. Transcendentals come from
/// <see cref="DeviceMath"/>, so a GPU evaluates them as the emulator does, to a few float ulp.
/// </summary>
internal static class KernelMath
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => DeviceMath.Sigmoid(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => DeviceMath.Silu(x);

    /// <summary>d silu(z)/dz.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SiluGrad(float z)
    {
        float s = Sigmoid(z);
        return s * (1f + z * (1f - s));
    }

    /// <summary>erf by the Chebyshev fit of erfc used on the CPU (relative error below 1.2e-7), evaluated in float.</summary>
    public static float Erf(float x)
    {
        float z = MathF.Abs(x), t = 1f / (1f + 0.5f * z);
        float r = t * DeviceMath.Exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
            t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
        return x >= 0 ? 1f - r : r - 1f;
    }

    public static float Unary(int op, float x, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryCode.Neg: return -x;
            case UnaryCode.Exp: return DeviceMath.Exp(x);
            case UnaryCode.Log: return DeviceMath.Log(x);
            case UnaryCode.Sqrt: return MathF.Sqrt(x);
            case UnaryCode.Rsqrt: return 1f / MathF.Sqrt(x);
            case UnaryCode.Abs: return MathF.Abs(x);
            case UnaryCode.Square: return x * x;
            case UnaryCode.Relu: return x > 0 ? x : 0f;
            case UnaryCode.LeakyRelu: return x > 0 ? x : alpha * x;
            case UnaryCode.Silu: return Silu(x);
            case UnaryCode.Gelu: return 0.5f * x * (1f + Erf(x * InvSqrt2));
            case UnaryCode.Sigmoid: return Sigmoid(x);
            case UnaryCode.Tanh: return DeviceMath.Tanh(x);
            case UnaryCode.Softplus: return MathF.Max(x, 0f) + DeviceMath.Log(1f + DeviceMath.Exp(-MathF.Abs(x)));
            case UnaryCode.AddScalar: return x + alpha;
            case UnaryCode.MulScalar: return x * alpha;
            case UnaryCode.PowScalar: return DeviceMath.Pow(x, alpha);
            default: return MathF.Max(alpha, MathF.Min(x, beta));
        }
    }

    /// <summary>d op(x)/dx given y = op(x).</summary>
    public static float UnaryGrad(int op, float x, float y, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryCode.Neg: return -1f;
            case UnaryCode.Exp: return y;
            case UnaryCode.Log: return 1f / x;
            case UnaryCode.Sqrt: return 0.5f / y;
            case UnaryCode.Rsqrt: return -0.5f * y / x;
            case UnaryCode.Abs: return x > 0 ? 1f : x < 0 ? -1f : 0f;
            case UnaryCode.Square: return 2f * x;
            case UnaryCode.Relu: return x > 0 ? 1f : 0f;
            case UnaryCode.LeakyRelu: return x > 0 ? 1f : alpha;
            case UnaryCode.Silu: return SiluGrad(x);
            case UnaryCode.Gelu: return 0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * DeviceMath.Exp(-0.5f * x * x);
            case UnaryCode.Sigmoid: return y * (1f - y);
            case UnaryCode.Tanh: return 1f - y * y;
            case UnaryCode.Softplus: return Sigmoid(x);
            case UnaryCode.AddScalar: return 1f;
            case UnaryCode.MulScalar: return alpha;
            case UnaryCode.PowScalar: return alpha * DeviceMath.Pow(x, alpha - 1f);
            default: return x >= alpha && x <= beta ? 1f : 0f;
        }
    }

    public static float Binary(int op, float a, float b)
    {
        switch (op)
        {
            case BinaryCode.Add: return a + b;
            case BinaryCode.Sub: return a - b;
            case BinaryCode.Mul: return a * b;
            case BinaryCode.Div: return a / b;
            case BinaryCode.Pow: return DeviceMath.Pow(a, b);
            case BinaryCode.Maximum: return MathF.Max(a, b);
            case BinaryCode.Minimum: return MathF.Min(a, b);
            case BinaryCode.Equal: return a == b ? 1f : 0f;
            default: return a > b ? 1f : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Combine(int op, float a, float b) => op == ReduceCode.Sum ? a + b : op == ReduceCode.Max ? MathF.Max(a, b) : MathF.Min(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Identity(int op) => op == ReduceCode.Sum ? 0f : op == ReduceCode.Max ? float.NegativeInfinity : float.PositiveInfinity;
}
