using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Vector forms of the transcendental pieces of fused elementwise kernels (SiLU and its gradient,
/// GroupNorm+SiLU, GELU and its gradient), so those run in one pass. exp uses the classic range reduction e^x = 2ⁿ·e^r with
/// |r| ≤ ln2/2 and a degree-6 polynomial (relative error about 2 ulp); its argument is clamped to
/// [−87.3, 88], which only matters where the logistic function is already 0 or 1 to float precision.
/// Callers process tails through a padded vector too, so every element gets the same arithmetic
/// wherever chunk boundaries fall.
/// </summary>
internal static class SimdMath
{
    /// <summary>Floats per vector.</summary>
    public static int Width => Vector256<float>.Count;

    /// <summary>e^x, clamped to [e^−87.3, e^88].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88f));
        var n = Vector256.Round(x * Vector256.Create(1.44269504f));
        // r = x − n·ln2 in two steps (ln2 split into an exactly representable head and a tail).
        var r = Vector256.MultiplyAddEstimate(n, Vector256.Create(-0.693359375f), x);
        r = Vector256.MultiplyAddEstimate(n, Vector256.Create(2.12194440e-4f), r);
        var p = Vector256.Create(1.9875691500e-4f);
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(1.3981999507e-3f));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(8.3334519073e-3f));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(4.1665795894e-2f));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(1.6666665459e-1f));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(5.0000001201e-1f));
        p = Vector256.MultiplyAddEstimate(p, r * r, r + Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return p * scale;
    }

    /// <summary>σ(x) = 1 / (1 + e^−x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <summary>x·σ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Silu(Vector256<float> x) => x * Sigmoid(x);

    /// <summary>d/dx SiLU = σ(x)·(1 + x·(1 − σ(x))).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SiluDerivative(Vector256<float> x)
    {
        var s = Sigmoid(x);
        return s * Vector256.MultiplyAddEstimate(x, Vector256<float>.One - s, Vector256<float>.One);
    }

    /// <summary>
    /// erf by the Chebyshev fit of erfc that <see cref="UnaryMath.Erf"/> evaluates in double (relative error of the fit
    /// about 1.2e-7), here in float as the GPU kernels evaluate it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        var z = Vector256.Abs(x);
        var t = Vector256<float>.One / Vector256.MultiplyAddEstimate(z, Vector256.Create(0.5f), Vector256<float>.One);
        var p = Vector256.Create(0.17087277f);
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-0.82215223f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(1.48851587f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-1.13520398f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.27886807f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(-0.18628806f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.09678418f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(0.37409196f));
        p = Vector256.MultiplyAddEstimate(p, t, Vector256.Create(1.00002368f));
        var r = t * Exp(Vector256.MultiplyAddEstimate(t, p, -z * z - Vector256.Create(1.26551223f)));
        // 1 − r for x ≥ 0, r − 1 below: the sign of x moved onto 1 − r.
        return (Vector256<float>.One - r) | (x & Vector256.Create(-0f));
    }

    /// <summary>Φ(x) = ½·(1 + erf(x/√2)), the standard normal CDF.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> NormalCdf(Vector256<float> x) =>
        Vector256.Create(0.5f) * (Vector256<float>.One + Erf(x * Vector256.Create(UnaryMath.InvSqrt2)));

    /// <summary>GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Gelu(Vector256<float> x) => x * NormalCdf(x);

    /// <summary>d/dx GELU = Φ(x) + x·φ(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> GeluDerivative(Vector256<float> x) =>
        Vector256.MultiplyAddEstimate(x * Vector256.Create(UnaryMath.InvSqrt2Pi), Exp(Vector256.Create(-0.5f) * x * x), NormalCdf(x));
}
