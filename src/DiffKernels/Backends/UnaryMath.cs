namespace DiffKernels.Backends;

/// <summary>Scalar definitions of the unary ops and their derivatives: the reference for every backend.</summary>
public static class UnaryMath
{
    internal const float InvSqrt2 = 0.70710678118654752f;
    internal const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>op(x; α, β).</summary>
    public static float Forward(UnaryOp op, float x, float alpha, float beta) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => MathF.Exp(x),
        UnaryOp.Log => MathF.Log(x),
        UnaryOp.Sqrt => MathF.Sqrt(x),
        UnaryOp.Rsqrt => 1f / MathF.Sqrt(x),
        UnaryOp.Abs => MathF.Abs(x),
        UnaryOp.Square => x * x,
        UnaryOp.Relu => x > 0 ? x : 0f,
        UnaryOp.LeakyRelu => x > 0 ? x : alpha * x,
        UnaryOp.Silu => x / (1f + MathF.Exp(-x)),
        UnaryOp.Gelu => 0.5f * x * (1f + Erf(x * InvSqrt2)),
        UnaryOp.Sigmoid => 1f / (1f + MathF.Exp(-x)),
        UnaryOp.Tanh => MathF.Tanh(x),
        UnaryOp.Softplus => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x))),
        UnaryOp.AddScalar => x + alpha,
        UnaryOp.MulScalar => x * alpha,
        UnaryOp.PowScalar => MathF.Pow(x, alpha),
        UnaryOp.Clamp => MathF.Max(alpha, MathF.Min(x, beta)),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>d op(x)/dx, given y = op(x).</summary>
    public static float Derivative(UnaryOp op, float x, float y, float alpha, float beta)
    {
        switch (op)
        {
            case UnaryOp.Neg: return -1f;
            case UnaryOp.Exp: return y;
            case UnaryOp.Log: return 1f / x;
            case UnaryOp.Sqrt: return 0.5f / y;
            case UnaryOp.Rsqrt: return -0.5f * y / x;
            case UnaryOp.Abs: return x > 0 ? 1f : x < 0 ? -1f : 0f;
            case UnaryOp.Square: return 2f * x;
            case UnaryOp.Relu: return x > 0 ? 1f : 0f;
            case UnaryOp.LeakyRelu: return x > 0 ? 1f : alpha;
            case UnaryOp.Silu:
            {
                float s = 1f / (1f + MathF.Exp(-x));
                return s * (1f + x * (1f - s));
            }
            case UnaryOp.Gelu: return 0.5f * (1f + Erf(x * InvSqrt2)) + x * InvSqrt2Pi * MathF.Exp(-0.5f * x * x);
            case UnaryOp.Sigmoid: return y * (1f - y);
            case UnaryOp.Tanh: return 1f - y * y;
            case UnaryOp.Softplus: return 1f / (1f + MathF.Exp(-x));
            case UnaryOp.AddScalar: return 1f;
            case UnaryOp.MulScalar: return alpha;
            case UnaryOp.PowScalar: return alpha * MathF.Pow(x, alpha - 1f);
            case UnaryOp.Clamp: return x >= alpha && x <= beta ? 1f : 0f;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>erf with relative error below 1.2e-7 (Chebyshev fit of erfc, evaluated in double).</summary>
    public static float Erf(float xf)
    {
        double x = xf, z = Math.Abs(x), t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return (float)(x >= 0 ? 1.0 - r : r - 1.0);
    }
}
