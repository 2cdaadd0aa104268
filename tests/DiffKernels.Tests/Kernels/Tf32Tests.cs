using DiffKernels.Kernels;

namespace DiffKernels.Tests.Kernels;

/// <summary>
/// The emulator's TF32 rounding (the twin of cvt.rna.tf32.f32) against an independent reference in double —
/// x / ulp rounded half away from zero, times the ulp of 10 mantissa bits — over a sweep of every exponent and
/// mantissa pattern and the cases where rounding carries, ties or overflows; the 3×TF32 split; the ISA layout table.
/// </summary>
public class Tf32Tests
{
    private static uint Reference(float x)
    {
        if (float.IsNaN(x)) return 0x7FFFFFFFu;
        if (float.IsInfinity(x) || x == 0) return BitConverter.SingleToUInt32Bits(x);
        double d = x;
        // The spacing of TF32 values at |x|: 2^(e − 10) for normal x, and that of the smallest exponent below it.
        double ulp = Math.ScaleB(1.0, Math.Max(Math.ILogB(d), -126) - 10);
        double q = Math.Round(d / ulp, MidpointRounding.AwayFromZero) * ulp;
        float r = Math.Abs(q) >= Math.ScaleB(1.0, 128) ? (q > 0 ? float.PositiveInfinity : float.NegativeInfinity) : (float)q;
        return BitConverter.SingleToUInt32Bits(r == 0 ? MathF.CopySign(0f, x) : r);
    }

    private static IEnumerable<float> Patterns()
    {
        // Every 997th bit pattern of each sign: all exponents, subnormals included, and varied low bits.
        for (long i = 0; i < 0x7F800000L; i += 997)
        {
            float x = BitConverter.Int32BitsToSingle((int)i);
            yield return x;
            yield return -x;
        }
    }

    [Test]
    public void RoundBitsMatchesTheReferenceOverASweep()
    {
        int checkedCount = 0;
        foreach (float x in Patterns())
        {
            uint got = Tf32.RoundBits(x), want = Reference(x);
            if (got != want) Assert.Fail($"x = {x:R} (0x{BitConverter.SingleToUInt32Bits(x):X8}): got 0x{got:X8}, reference 0x{want:X8}");
            checkedCount++;
        }
        Assert.That(checkedCount, Is.GreaterThan(4_000_000));
    }

    [TestCase(0x3F801000u, 0x3F802000u, TestName = "RoundBits(tie rounds away from zero, positive)")]
    [TestCase(0xBF801000u, 0xBF802000u, TestName = "RoundBits(tie rounds away from zero, negative)")]
    [TestCase(0x3F800FFFu, 0x3F800000u, TestName = "RoundBits(just below a tie rounds down)")]
    [TestCase(0x3F803000u, 0x3F804000u, TestName = "RoundBits(tie above an odd last bit rounds away too)")]
    [TestCase(0x3FFFF000u, 0x40000000u, TestName = "RoundBits(carry into the exponent)")]
    [TestCase(0x7F7FFFFFu, 0x7F800000u, TestName = "RoundBits(the largest float overflows to infinity)")]
    [TestCase(0x7F7FEFFFu, 0x7F7FE000u, TestName = "RoundBits(the largest TF32 stays)")]
    [TestCase(0x00001000u, 0x00002000u, TestName = "RoundBits(subnormal tie)")]
    [TestCase(0x00000FFFu, 0x00000000u, TestName = "RoundBits(the smallest subnormals round to zero)")]
    [TestCase(0x80000000u, 0x80000000u, TestName = "RoundBits(negative zero stays)")]
    [TestCase(0xFF800000u, 0xFF800000u, TestName = "RoundBits(negative infinity stays)")]
    [TestCase(0x7F800001u, 0x7FFFFFFFu, TestName = "RoundBits(a NaN with a low payload stays NaN)")]
    public void RoundBitsEdgeCases(uint x, uint expected)
    {
        float f = BitConverter.UInt32BitsToSingle(x);
        Assert.That(Tf32.RoundBits(f), Is.EqualTo(expected));
        Assert.That(Reference(f), Is.EqualTo(expected), "the reference agrees");
    }

    [Test]
    public void TheSplitRecoversTheValueToTwoToTheMinus22()
    {
        var rng = new System.Random(5);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((rng.NextDouble() * 2 - 1) * Math.ScaleB(1.0, rng.Next(-60, 60)));
            uint big = Tf32.Round(x, ptx: false), small = Tf32.Small(x, big, ptx: false);
            Assert.That(big & 0x1FFFu, Is.Zero);
            Assert.That(small & 0x1FFFu, Is.Zero);
            double error = Math.Abs((double)Tf32.Value(big) + Tf32.Value(small) - x);
            Assert.That(error, Is.LessThanOrEqualTo(Math.Abs((double)x) * Math.ScaleB(1.0, -22)), $"x = {x:R}");
        }
    }

    [Test]
    public void TheLayoutTableCoversEachOperandOnce()
    {
        var a = new HashSet<(int, int)>();
        var b = new HashSet<(int, int)>();
        var c = new HashSet<(int, int)>();
        for (int lane = 0; lane < 32; lane++)
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.That(a.Add((MmaLayout.ARow(lane, i), MmaLayout.ACol(lane, i))), Is.True, $"A element of lane {lane}, a{i}, held twice");
                Assert.That(c.Add((MmaLayout.CRow(lane, i), MmaLayout.CCol(lane, i))), Is.True, $"C element of lane {lane}, c{i}, held twice");
            }
            for (int i = 0; i < 2; i++)
                Assert.That(b.Add((MmaLayout.BRow(lane, i), MmaLayout.BCol(lane))), Is.True, $"B element of lane {lane}, b{i}, held twice");
        }
        Assert.That(a.All(e => e.Item1 is >= 0 and < 16 && e.Item2 is >= 0 and < 8) && a.Count == 128, Is.True);
        Assert.That(b.All(e => e.Item1 is >= 0 and < 8 && e.Item2 is >= 0 and < 8) && b.Count == 64, Is.True);
        Assert.That(c.All(e => e.Item1 is >= 0 and < 16 && e.Item2 is >= 0 and < 8) && c.Count == 128, Is.True);
        // Spot checks against the ISA's figures: lane 5 is group 1, thread 1.
        Assert.That((MmaLayout.ARow(5, 3), MmaLayout.ACol(5, 3)), Is.EqualTo((9, 5)));
        Assert.That((MmaLayout.BRow(5, 1), MmaLayout.BCol(5)), Is.EqualTo((5, 1)));
        Assert.That((MmaLayout.CRow(5, 3), MmaLayout.CCol(5, 3)), Is.EqualTo((9, 3)));
    }
}
