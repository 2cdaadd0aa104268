using System.Runtime.CompilerServices;
using ILGPU;

namespace DiffKernels.Kernels;

/// <summary>
/// Transcendentals for the kernels, built only from +, ×, division, square root and integer operations
/// on the bits. ILGPU's PTX back end, without the CUDA SDK's libdevice, lowers MathF.Exp/Log/Tanh/Pow
/// to the approximate special-function instructions (exp as ex2.approx of a rounded x·log₂e loses tens
/// of ulp at large |x|; lg2.approx's error is absolute, not relative, near 1; tanh.approx is good to
/// about 2⁻¹¹) and double-precision math to long software sequences; these routines keep every kernel within a few float ulp of the exact result on
/// any accelerator, with nothing to install. Special values follow MathF: NaN in, NaN out; overflow to
/// ±∞; underflow through subnormals to 0.
/// </summary>
/// <remarks>
/// No step relies on an exact product: ptxas may contract a·b + c into one fma (it does by default,
/// the emulator never does), and every bound here holds for either evaluation. An explicit fma is not
/// available: ILGPU lowers MathF.FusedMultiplyAdd to a libdevice call, the very dependency avoided here.
/// </remarks>
internal static class DeviceMath
{
    private const float Log2E = 1.44269504088896341f;

    // ln 2 in two parts: Ln2Hi has 15 significant bits, so n·Ln2Hi is exact for |n| < 512 and
    // x − n·Ln2Hi is exact near a multiple of ln 2 (Cody–Waite reduction).
    private const float Ln2Hi = 0.693145751953125f;
    private const float Ln2Lo = 1.42860682030941723212e-6f;

    private const double Log2ED = 1.4426950408889634;
    private const double Ln2D = 0.69314718055994531;
    private const double Ln2HiD = 6.93147180369123816490e-01;
    private const double Ln2LoD = 1.90821492927058770002e-10;

    // 2π in two parts: TwoPiHi has 12 significant bits, so its products with 12-bit halves of a float
    // are exact.
    private const float TwoPiHi = 6.283203125f;
    private const float TwoPiLo = -1.78178204e-5f;

    /// <summary>Largest float whose exponential is finite (e^x overflows above it).</summary>
    private const float ExpMax = 88.72283172607422f;

    /// <summary>Below this e^x rounds to zero even as a subnormal (e^-104 &lt; 2⁻¹⁵⁰).</summary>
    private const float ExpMin = -104f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bits(float x) => (int)Interop.FloatAsInt(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FromBits(int b) => Interop.IntAsFloat((uint)b);

    // MathF.Round and Math.Round become long software sequences with a division under ILGPU; the
    // reductions only need some integer within a hair of the nearest, which a truncating convert gives.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundToInt(float x) => (int)(x + (x >= 0f ? 0.5f : -0.5f));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long RoundToLong(double x) => (long)(x + (x >= 0.0 ? 0.5 : -0.5));

    /// <summary>2ⁿ for n in [−126, 127].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pow2(int n) => FromBits((n + 127) << 23);

    /// <summary>e^x, within 1.5 ulp.</summary>
    public static float Exp(float x)
    {
        if (x > ExpMax) return float.PositiveInfinity;
        if (x < ExpMin) return 0f;
        if (float.IsNaN(x)) return x;
        return ExpScaled(x, 0);
    }

    /// <summary>
    /// e^x·2ᵏ for x in [−150, ExpMax] and k in [0, 64]. Cody–Waite reduction: x = n·ln 2 + r with
    /// |r| ≤ ln 2 / 2, where r − n·Ln2Hi is exact.
    /// </summary>
    private static float ExpScaled(float x, int k)
    {
        int n = RoundToInt(x * Log2E);
        float r = x - n * Ln2Hi;
        r -= n * Ln2Lo;
        return ExpReduced(r, n + k);
    }

    /// <summary>
    /// e^r·2ⁿ for |r| ≤ 0.35 and n in [−152, 129]: e^r by its Taylor polynomial to degree 7 (truncation
    /// below 2⁻²⁷ relative), then 2ⁿ in two exact halves, so results near overflow and in the
    /// subnormal range round once.
    /// </summary>
    private static float ExpReduced(float r, int n)
    {
        float p = r * (1f / 5040f) + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        int h = n >> 1;
        return p * Pow2(h) * Pow2(n - h);
    }

    /// <summary>Natural logarithm, within 1 ulp; log(0) = −∞, log(x &lt; 0) = NaN.</summary>
    public static float Log(float x)
    {
        int ix = Bits(x);
        if (ix <= 0 || ix >= 0x7F800000)
        {
            if (x == 0f) return float.NegativeInfinity;
            return x < 0f ? float.NaN : x;
        }
        float f = Mantissa(x, out int e);
        // log(1 + f) = 2·atanh(s), s = f / (2 + f), |s| ≤ 0.172; written f − s·(f − R) with
        // R = Σ 2s²ᵏ/(2k + 1), so the exact f carries the result and only a small correction rounds.
        float s = f / (2f + f), z = s * s;
        float poly = z * (2f / 9f) + 2f / 7f;
        poly = poly * z + 2f / 5f;
        poly = poly * z + 2f / 3f;
        float l1p = f - s * (f - z * poly);
        float fe = e;
        return fe * Ln2Hi + (fe * Ln2Lo + l1p);
    }

    /// <summary>
    /// Splits a positive finite x = 2ᵉ·(1 + f) with 1 + f in [√½, √2) (subnormals scaled up first);
    /// f is exact.
    /// </summary>
    private static float Mantissa(float x, out int e)
    {
        int ix = Bits(x);
        e = 0;
        if (ix < 0x00800000)
        {
            x *= 8388608f;
            ix = Bits(x);
            e = -23;
        }
        e += (ix >> 23) - 127;
        int m = ix & 0x007FFFFF;
        if (m > 0x003504F3)
        {
            m |= 0x3F000000;
            e++;
        }
        else
        {
            m |= 0x3F800000;
        }
        return FromBits(m) - 1f;
    }

    /// <summary>
    /// log(x) for positive finite x, in double to about 2⁻⁴⁰ relative: the reduction of
    /// <see cref="Log"/>, with the series of atanh carried to s¹⁵.
    /// </summary>
    private static double LogDouble(float x)
    {
        double f = Mantissa(x, out int e);
        double s = f / (2.0 + f), z = s * s;
        double poly = z * (1.0 / 15.0) + 1.0 / 13.0;
        poly = poly * z + 1.0 / 11.0;
        poly = poly * z + 1.0 / 9.0;
        poly = poly * z + 1.0 / 7.0;
        poly = poly * z + 1.0 / 5.0;
        poly = poly * z + 1.0 / 3.0;
        return e * Ln2D + (2.0 * s + 2.0 * s * z * poly);
    }

    /// <summary>
    /// xʸ with MathF.Pow's special cases, otherwise e^(y·log x), within 2 ulp. The float result is
    /// |y·log x|·ε from an error ε in y·log x, up to 104 ε near overflow, so log x, the product and its
    /// reduction by ln 2 run in double (about 35 f64 instructions, none transcendental): float alone
    /// cannot carry log x to the 2⁻³⁰ this needs without an exact product, and so without an fma.
    /// </summary>
    public static float Pow(float x, float y)
    {
        if (y == 0f || x == 1f) return 1f;
        if (float.IsNaN(x) || float.IsNaN(y)) return x + y;
        float ax = MathF.Abs(x);
        bool negate = false;
        if (Bits(x) < 0)
        {
            bool integral = MathF.Abs(y) >= 8388608f || (int)y == y;
            if (!integral && ax != 0f && ax != float.PositiveInfinity) return float.NaN;
            negate = integral && MathF.Abs(y) < 16777216f && ((int)y & 1) != 0;
        }
        float r;
        if (MathF.Abs(y) == float.PositiveInfinity)
        {
            if (ax == 1f) return 1f;
            r = (ax < 1f) == (y < 0f) ? float.PositiveInfinity : 0f;
        }
        else if (ax == 0f)
        {
            r = y < 0f ? float.PositiveInfinity : 0f;
        }
        else if (ax == float.PositiveInfinity)
        {
            r = y < 0f ? 0f : float.PositiveInfinity;
        }
        else
        {
            double p = y * LogDouble(ax);
            if (p > ExpMax + 1f) r = float.PositiveInfinity;
            else if (p < ExpMin - 1f) r = 0f;
            else
            {
                int n = (int)RoundToLong(p * Log2ED);
                r = ExpReduced((float)(p - n * Ln2D), n);
            }
        }
        return negate ? -r : r;
    }

    /// <summary>
    /// Hyperbolic tangent, within 2 ulp: the odd Taylor polynomial to x¹⁷ below 0.55 (no cancellation),
    /// 1 − 2/(e^2|x| + 1) above, ±1 past 9.1 where 1 − tanh x &lt; 2⁻²⁵.
    /// </summary>
    public static float Tanh(float x)
    {
        float a = MathF.Abs(x);
        if (a < 0.55f)
        {
            float z = x * x;
            float p = z * (6404582f / 10854718875f) - 929569f / 638512875f;
            p = p * z + 21844f / 6081075f;
            p = p * z - 1382f / 155925f;
            p = p * z + 62f / 2835f;
            p = p * z - 17f / 315f;
            p = p * z + 2f / 15f;
            p = p * z - 1f / 3f;
            return x * z * p + x;
        }
        if (float.IsNaN(x)) return x;
        float t = a > 9.1f ? 1f : 1f - 2f / (Exp(2f * a) + 1f);
        return x < 0f ? -t : t;
    }

    /// <summary>1 / (1 + e⁻ˣ), within 3 ulp: e = e^−|x| ≤ 1, so neither branch overflows and x → −∞ keeps its subnormal tail.</summary>
    public static float Sigmoid(float x)
    {
        float e = Exp(-MathF.Abs(x));
        float s = 1f / (1f + e);
        return x >= 0f ? s : e * s;
    }

    /// <summary>
    /// x / (1 + e⁻ˣ), within 3 ulp. Below zero it is x·eˣ/(1 + eˣ) with eˣ carried scaled by 2⁶⁴: eˣ
    /// goes subnormal from x = −87.3 while x·eˣ stays normal to −91.8 and nonzero to about −109.
    /// </summary>
    public static float Silu(float x)
    {
        if (x >= 0f) return x / (1f + Exp(-x));
        if (x < -150f) return x * 0f;
        const float TwoToMinus64 = 5.42101086e-20f;
        float e64 = ExpScaled(x, 64);
        return x * e64 / (1f + e64 * TwoToMinus64) * TwoToMinus64;
    }

    /// <summary>
    /// sin 2πu and cos 2πu (u in turns, as Box–Muller's angle comes), within 1.5 ulp of the exact values
    /// for the float u: u = m + q/4 + v exactly, with m an integer and |v| ≤ 1/8. ±∞ and NaN give NaN.
    /// </summary>
    public static void SinCosTurns(float u, out float sin, out float cos)
    {
        float w = MathF.Abs(u) < 8388608f ? u - (int)u : u * 0f;
        int q = RoundToInt(4f * w);
        SinCosQuarterTurns(w - 0.25f * q, q, out sin, out cos);
    }

    /// <summary>
    /// sin and cos of 2π(v + q/4) for |v| ≤ 1/8 (a little more is harmless), within 1.5 ulp: the
    /// Taylor polynomials on |2πv| ≤ π/4 (truncation below 2⁻²⁸), then the quadrant q mod 4.
    /// </summary>
    public static void SinCosQuarterTurns(float v, int q, out float sin, out float cos)
    {
        // The angle a = 2πv as a + aLo, nearly exact: vh·TwoPiHi is exact, the rest is 2⁻¹² of it.
        float vh = FromBits(Bits(v) & unchecked((int)0xFFFFF000)), hi = vh * TwoPiHi;
        float lo = (v - vh) * TwoPiHi + v * TwoPiLo;
        float a = hi + lo, aLo = lo - (a - hi), z = a * a;
        float sp = z * (1f / 362880f) - 1f / 5040f;
        sp = sp * z + 1f / 120f;
        sp = sp * z - 1f / 6f;
        float s = a + (aLo + a * z * sp);
        float cp = z * (-1f / 3628800f) + 1f / 40320f;
        cp = cp * z - 1f / 720f;
        cp = cp * z + 1f / 24f;
        cp = cp * z - 0.5f;
        float c = 1f + (cp * z - a * aLo);
        int k = q & 3;
        sin = (k & 1) == 0 ? s : c;
        cos = (k & 1) == 0 ? c : s;
        if (k >= 2) sin = -sin;
        if (k == 1 || k == 2) cos = -cos;
    }

    /// <summary>
    /// e^x in double, within 1 ulp: the reduction of the float <see cref="Exp(float)"/> with the Taylor
    /// polynomial to degree 13. For the timestep frequencies, whose phases reach 10³ rad and so need
    /// more than float's 24 bits.
    /// </summary>
    public static double Exp(double x)
    {
        if (x > 709.782712893384) return double.PositiveInfinity;
        if (x < -746.0) return 0.0;
        if (double.IsNaN(x)) return x;
        long n = RoundToLong(x * Log2ED);
        double r = x - n * Ln2HiD;
        r -= n * Ln2LoD;
        double p = r * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        long h = n >> 1;
        return p * Pow2(h) * Pow2(n - h);
    }

    /// <summary>2ⁿ for n in [−1022, 1023].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Pow2(long n) => Interop.IntAsFloat((ulong)(n + 1023) << 52);
}
