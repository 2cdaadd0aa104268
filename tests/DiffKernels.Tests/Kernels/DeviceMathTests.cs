using DiffKernels.Kernels;

namespace DiffKernels.Tests.Kernels;

/// <summary>
/// The kernels' own transcendentals against System.Math in double: dense sweeps over the float range
/// each op sees (every n-th bit pattern, so all exponents and mantissas are visited), the special
/// values, and the largest error in float ulps asserted against the bound each routine documents.
/// Angles in turns are checked against SinPi/CosPi, which reduce them exactly.
/// </summary>
public class DeviceMathTests
{
    /// <summary>
    /// |got − exact| in units of the float spacing at the exact value. Infinities count as ±2¹²⁸ (so
    /// a result one rounding short of overflow is one ulp off, not infinitely), NaN must meet NaN.
    /// </summary>
    private static double Ulps(float got, double exact)
    {
        if (double.IsNaN(exact) || float.IsNaN(got)) return double.IsNaN(exact) && float.IsNaN(got) ? 0 : double.PositiveInfinity;
        const double Top = 3.4028236692093846e38; // 2¹²⁸
        double g = float.IsInfinity(got) ? Math.CopySign(Top, got) : got;
        double e = Math.Abs(exact) >= Top ? Math.CopySign(Top, exact) : exact;
        int exponent = e == 0 ? -126 : Math.Clamp(Math.ILogB(e), -126, 127);
        return Math.Abs(g - e) / Math.ScaleB(1.0, exponent - 23);
    }

    /// <summary>Floats from <paramref name="from"/> to <paramref name="to"/> (same sign, by magnitude) at every <paramref name="stride"/>-th bit pattern, both ends included.</summary>
    private static IEnumerable<float> Sweep(float from, float to, int stride)
    {
        int a = BitConverter.SingleToInt32Bits(from), b = BitConverter.SingleToInt32Bits(to);
        if (a > b) (a, b) = (b, a);
        for (long i = a; i < b; i += stride) yield return BitConverter.Int32BitsToSingle((int)i);
        yield return BitConverter.Int32BitsToSingle(b);
    }

    private static IEnumerable<float> Symmetric(float max, int stride) =>
        Sweep(float.Epsilon, max, stride).SelectMany(x => new[] { x, -x }).Append(0f).Append(-0f);

    private static (double Worst, float At) Worst(IEnumerable<float> xs, Func<float, float> f, Func<double, double> exact)
    {
        double worst = 0;
        float at = float.NaN;
        foreach (float x in xs)
        {
            double u = Ulps(f(x), exact(x));
            if (u > worst || double.IsNaN(u))
            {
                worst = u;
                at = x;
            }
        }
        TestContext.Out.WriteLine($"max {worst:0.000} ulp at {at:R}");
        return (worst, at);
    }

    private static void AssertWithin(double ulps, IEnumerable<float> xs, Func<float, float> f, Func<double, double> exact)
    {
        var (worst, at) = Worst(xs, f, exact);
        Assert.That(worst, Is.LessThanOrEqualTo(ulps), $"{worst:0.000} ulp at x = {at:R}");
    }

    private static readonly float[] Specials =
        [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.Epsilon, -float.Epsilon, 1.17549435e-38f,
         float.MaxValue, -float.MaxValue, 1f, -1f, 0.5f, 2f];

    [Test]
    public void ExpIsWithinOneAndAHalfUlpFromUnderflowToOverflow()
    {
        AssertWithin(1.5, Sweep(-0f, -105f, 1117).Concat(Sweep(0f, 89f, 1117)).Concat(Specials), DeviceMath.Exp, Math.Exp);
        Assert.That(DeviceMath.Exp(88.72283172607422f), Is.EqualTo(MathF.Exp(88.72283172607422f)).Within(1).Ulps, "largest finite");
        Assert.That(DeviceMath.Exp(88.7228394f), Is.EqualTo(float.PositiveInfinity));
        Assert.That(DeviceMath.Exp(-103.9f), Is.EqualTo(float.Epsilon), "the subnormal tail rounds once");
        Assert.That(DeviceMath.Exp(-104.5f), Is.Zero);
    }

    [Test]
    public void LogIsWithinOneUlpOverEveryPositiveFloat()
    {
        AssertWithin(1, Sweep(float.Epsilon, float.MaxValue, 2039).Concat(Sweep(0.5f, 2f, 13)).Concat(Specials), DeviceMath.Log, Math.Log);
        Assert.That(DeviceMath.Log(0f), Is.EqualTo(float.NegativeInfinity));
        Assert.That(DeviceMath.Log(-0f), Is.EqualTo(float.NegativeInfinity));
        Assert.That(float.IsNaN(DeviceMath.Log(-1e-30f)), Is.True);
        Assert.That(DeviceMath.Log(1f), Is.EqualTo(0f));
    }

    [Test]
    public void TanhIsWithinTwoUlpAndOddAndSaturates()
    {
        AssertWithin(2, Symmetric(12f, 1009).Concat(Specials), DeviceMath.Tanh, Math.Tanh);
        foreach (float x in new[] { 1e-30f, 0.3f, 0.55f, 3f, 9.2f })
            Assert.That(DeviceMath.Tanh(-x), Is.EqualTo(-DeviceMath.Tanh(x)));
        Assert.That(DeviceMath.Tanh(20f), Is.EqualTo(1f));
    }

    [Test]
    public void SigmoidAndSiluAreWithinThreeUlpIncludingTheSubnormalTail()
    {
        static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
        var xs = Symmetric(110f, 2039).Concat(Specials).ToArray();
        AssertWithin(3, xs, DeviceMath.Sigmoid, Sigmoid);
        AssertWithin(3, xs, DeviceMath.Silu, x => x * Sigmoid(x));
        Assert.That(DeviceMath.Sigmoid(-100f), Is.GreaterThan(0f), "e^-100 is a subnormal, not zero");
        Assert.That(DeviceMath.Silu(-105f), Is.LessThan(0f), "−105·e^-105 is a subnormal, not zero");
    }

    [Test]
    public void PowIsWithinTwoUlpOverRandomOperands()
    {
        var rng = new System.Random(7);
        var pairs = new List<(float X, float Y)>();
        for (int i = 0; i < 400_000; i++)
        {
            float x = MathF.Exp((float)(rng.NextDouble() * 40 - 20));
            float y = (float)(rng.NextDouble() * 16 - 8);
            pairs.Add((x, y));
            // Exponents that take the result to the edge of overflow and underflow.
            float big = (float)((rng.NextDouble() * 2 - 1) * 88 / Math.Max(Math.Abs(Math.Log(x)), 1e-3));
            pairs.Add((x, big));
        }
        double worst = 0;
        (float, float) at = default;
        foreach (var (x, y) in pairs)
        {
            double u = Ulps(DeviceMath.Pow(x, y), Math.Pow(x, y));
            if (u > worst) (worst, at) = (u, (x, y));
        }
        TestContext.Out.WriteLine($"max {worst:0.000} ulp at {at}");
        Assert.That(worst, Is.LessThanOrEqualTo(2), $"at (x, y) = {at}");
    }

    [Test]
    public void PowFollowsMathFOnSpecialValues()
    {
        float[] values = [.. Specials, 3f, -3f, 2.5f, -2.5f, 0.25f, -0.25f, 16777217f, -16777215f, 1e-20f];
        foreach (float x in values)
            foreach (float y in values)
            {
                float want = MathF.Pow(x, y), got = DeviceMath.Pow(x, y);
                if (float.IsNaN(want) || want == 0f || float.IsInfinity(want) || want == 1f)
                    Assert.That(float.IsNaN(want) ? float.IsNaN(got) : got.Equals(want) && float.IsNegative(got) == float.IsNegative(want), Is.True,
                        $"pow({x:R}, {y:R}) = {got:R}, MathF: {want:R}");
                else
                    Assert.That(Ulps(got, Math.Pow(x, y)), Is.LessThanOrEqualTo(2), $"pow({x:R}, {y:R}) = {got:R}");
            }
    }

    [Test]
    public void SinCosTurnsIsWithinOneAndAHalfUlpOnTheBoxMullerGrid()
    {
        // Box–Muller's angles: every multiple of 2⁻²⁴ in [0, 1) (every 31st), plus negative and large turns.
        var grid = Enumerable.Range(0, 1 << 24).Where(k => k % 31 == 0).Select(k => k * (1f / 16777216f));
        var extra = Symmetric(1e6f, 4099).Where(float.IsFinite);
        var all = grid.Concat(extra).ToArray();
        AssertWithin(1.5, all, u => { DeviceMath.SinCosTurns(u, out float s, out _); return s; }, u => double.SinPi(2.0 * u));
        AssertWithin(1.5, all, u => { DeviceMath.SinCosTurns(u, out _, out float c); return c; }, u => double.CosPi(2.0 * u));
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            DeviceMath.SinCosTurns(bad, out float s, out float c);
            Assert.That(float.IsNaN(s) && float.IsNaN(c), Is.True, $"sin/cos of {bad}");
        }
    }

    // sin/cos of 2π(v + q/4) by the quadrant identities, since v + q/4 would round v away in double.
    private static double Quadrant(double v, int q, bool sine)
    {
        double s = double.SinPi(2 * v), c = double.CosPi(2 * v);
        return (((q % 4) + 4) % 4) switch
        {
            0 => sine ? s : c,
            1 => sine ? c : -s,
            2 => sine ? -s : -c,
            _ => sine ? -c : s,
        };
    }

    [Test]
    public void SinCosQuarterTurnsCoversEveryQuadrant()
    {
        for (int q = -5; q <= 5; q++)
        {
            int quadrant = q;
            var vs = Sweep(0f, 0.1251f, 20011).SelectMany(v => new[] { v, -v }).ToArray();
            AssertWithin(1.5, vs, v => { DeviceMath.SinCosQuarterTurns(v, quadrant, out float s, out _); return s; }, v => Quadrant(v, quadrant, sine: true));
            AssertWithin(1.5, vs, v => { DeviceMath.SinCosQuarterTurns(v, quadrant, out _, out float c); return c; }, v => Quadrant(v, quadrant, sine: false));
        }
    }

    [Test]
    public void DoubleExpIsWithinOneDoubleUlp()
    {
        var rng = new System.Random(3);
        double worst = 0, at = 0;
        for (int i = 0; i < 300_000; i++)
        {
            double x = i < 100_000 ? -rng.NextDouble() * 10 : (rng.NextDouble() * 1455 - 745);
            double got = DeviceMath.Exp(x), want = Math.Exp(x);
            double ulp = Math.BitIncrement(Math.Abs(want)) - Math.Abs(want);
            double u = Math.Abs(got - want) / ulp;
            if (u > worst) (worst, at) = (u, x);
        }
        TestContext.Out.WriteLine($"max {worst:0.000} double ulp at {at:R}");
        Assert.That(worst, Is.LessThanOrEqualTo(1), $"at x = {at:R}");
        Assert.That(DeviceMath.Exp(710.0), Is.EqualTo(double.PositiveInfinity));
        Assert.That(DeviceMath.Exp(-800.0), Is.Zero);
        Assert.That(double.IsNaN(DeviceMath.Exp(double.NaN)), Is.True);
    }
}
