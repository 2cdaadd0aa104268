using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Vector forms of the transcendental pieces of fused elementwise kernels (SiLU and its gradient,
/// GroupNorm+SiLU), so those run in one pass. exp uses the classic range reduction e^x = 2ⁿ·e^r with
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
}
