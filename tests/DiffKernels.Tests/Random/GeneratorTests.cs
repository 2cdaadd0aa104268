using DiffKernels.Backends.Cpu;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Random;

public class GeneratorTests
{
    private static float[] Draw(Func<Generator, Tensor> f, ulong seed, ulong offset = 0)
    {
        using var _ = Tensor.Scope();
        return f(new Generator(seed, offset)).ToArray();
    }

    private static int[] Bits(float[] v) => Array.ConvertAll(v, BitConverter.SingleToInt32Bits);

    [Test]
    public void UniformFollowsTheDocumentedMapping()
    {
        ulong seed = 0x1234_5678_9abc_def0UL, offset = 77;
        var v = Draw(g => g.Uniform([11], null), seed, offset);
        for (int i = 0; i < v.Length; i++)
        {
            var r = new uint[4];
            ulong b = offset + (ulong)(i / 4);
            Philox.Block((uint)b, (uint)(b >> 32), 0, 0, (uint)seed, (uint)(seed >> 32), r);
            Assert.That(v[i], Is.EqualTo((r[i % 4] >> 8) / 16777216.0f), $"element {i}");
        }
    }

    [Test]
    public void NormalFollowsTheDocumentedMapping()
    {
        ulong seed = 99, offset = 5;
        var v = Draw(g => g.Normal([10], null, 0.5f, 2f), seed, offset);
        for (int i = 0; i < v.Length; i++)
        {
            var r = new uint[4];
            Philox.Block((uint)(offset + (ulong)(i / 4)), 0, 0, 0, (uint)seed, 0, r);
            int lane = i % 4, first = lane & ~1;
            double u1 = ((r[first] >> 8) + 1) / 16777216.0, u2 = (r[first + 1] >> 8) / 16777216.0;
            double rho = Math.Sqrt(-2 * Math.Log(u1)), th = 2 * Math.PI * u2;
            double z = lane % 2 == 0 ? rho * Math.Cos(th) : rho * Math.Sin(th);
            Assert.That(v[i], Is.EqualTo((float)(0.5 + 2.0 * z)), $"element {i}");
        }
    }

    [Test]
    public void SameSeedAndOffsetGiveIdenticalBits()
    {
        Assert.That(Bits(Draw(g => g.Normal([3, 7, 5]), 42, 10)), Is.EqualTo(Bits(Draw(g => g.Normal([3, 7, 5]), 42, 10))));
        Assert.That(Bits(Draw(g => g.Uniform([3, 7, 5]), 42, 10)), Is.EqualTo(Bits(Draw(g => g.Uniform([3, 7, 5]), 42, 10))));
    }

    [Test]
    public void DifferentOffsetOrSeedGivesDifferentValues()
    {
        var a = Draw(g => g.Uniform([64]), 42, 0);
        Assert.That(a, Is.Not.EqualTo(Draw(g => g.Uniform([64]), 42, 1)));
        Assert.That(a, Is.Not.EqualTo(Draw(g => g.Uniform([64]), 43, 0)));
        Assert.That(a, Is.Not.EqualTo(Draw(g => g.Uniform([64]), 42UL | (1UL << 40), 0)), "high key word must matter");
        Assert.That(a, Is.Not.EqualTo(Draw(g => g.Uniform([64]), 42, 1UL << 40)), "high counter word must matter");
    }

    [Test]
    public void OffsetAdvancesByBlocksOfFour()
    {
        using var _ = Tensor.Scope();
        var g = new Generator(1, 3);
        g.Uniform([5]);
        Assert.That(g.Offset, Is.EqualTo(5UL));
        g.Normal([2, 4]);
        Assert.That(g.Offset, Is.EqualTo(7UL));
        g.Uniform([]);
        Assert.That(g.Offset, Is.EqualTo(8UL), "a scalar takes one block");
        g.Uniform([0, 3]);
        Assert.That(g.Offset, Is.EqualTo(8UL), "an empty draw takes nothing");
    }

    [Test]
    public void TwoDrawsEqualOneWhenOffsetsLineUp()
    {
        using var _ = Tensor.Scope();
        var g = new Generator(7);
        var a = g.Normal([12]).ToArray().Concat(g.Normal([9]).ToArray()).ToArray();
        var whole = new Generator(7).Normal([21]).ToArray();
        Assert.That(Bits(a), Is.EqualTo(Bits(whole)));

        // Restoring the offset replays the stream.
        var h = new Generator(7);
        h.Uniform([8]);
        ulong saved = h.Offset;
        var first = h.Uniform([6]).ToArray();
        h.Offset = saved;
        Assert.That(Bits(h.Uniform([6]).ToArray()), Is.EqualTo(Bits(first)));
    }

    [Test]
    public void UniformIsInUnitIntervalAndUniform()
    {
        var v = Draw(g => g.Uniform([100_000]), 2024);
        Assert.That(v.Min(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(v.Max(), Is.LessThan(1f));
        // Mean 1/2 (σ/√n ≈ 0.0009) and every tenth-bin near 10 % (σ ≈ 0.095 %).
        Assert.That(v.Average(x => (double)x), Is.EqualTo(0.5).Within(0.005));
        var bins = new int[10];
        foreach (var x in v) bins[(int)(x * 10)]++;
        foreach (var c in bins) Assert.That(c, Is.InRange(9_500, 10_500));
    }

    [Test]
    public void UniformBoundsAreApplied()
    {
        var v = Draw(g => g.Uniform([10_000], null, -3f, 5f), 3);
        Assert.That(v.Min(), Is.GreaterThanOrEqualTo(-3f));
        Assert.That(v.Max(), Is.LessThanOrEqualTo(5f));
        Assert.That(v.Average(x => (double)x), Is.EqualTo(1.0).Within(0.15));
    }

    [Test]
    public void NormalHasUnitMomentsAndGaussianTails()
    {
        var v = Draw(g => g.Normal([100_000]), 31337);
        double mean = v.Average(x => (double)x);
        double var = v.Average(x => (x - mean) * (x - mean));
        // σ of the sample mean ≈ 0.0032, of the sample variance ≈ 0.0045: bounds are ~5σ.
        Assert.That(mean, Is.EqualTo(0).Within(0.016));
        Assert.That(Math.Sqrt(var), Is.EqualTo(1).Within(0.012));
        double skew = v.Average(x => Math.Pow(x - mean, 3)) / Math.Pow(var, 1.5);
        double kurt = v.Average(x => Math.Pow(x - mean, 4)) / (var * var);
        Assert.That(skew, Is.EqualTo(0).Within(0.05));
        Assert.That(kurt, Is.EqualTo(3).Within(0.1));
        double within1 = v.Count(x => Math.Abs(x - mean) < 1) / (double)v.Length;
        Assert.That(within1, Is.EqualTo(0.6827).Within(0.008));
        Assert.That(v.All(float.IsFinite));
    }

    [Test]
    public void NormalMeanAndStdAreApplied()
    {
        var v = Draw(g => g.Normal([20_000], null, 3f, 0.5f), 8);
        double mean = v.Average(x => (double)x);
        Assert.That(mean, Is.EqualTo(3).Within(0.02));
        Assert.That(Math.Sqrt(v.Average(x => (x - mean) * (x - mean))), Is.EqualTo(0.5).Within(0.015));
    }

    [Test]
    public void ParallelAndSerialKernelsAgree()
    {
        int saved = CpuParallel.Workers;
        try
        {
            CpuParallel.Workers = 1;
            var us = Draw(g => g.Uniform([300_001]), 5, 11);
            var ns = Draw(g => g.Normal([300_001]), 5, 11);
            CpuParallel.Workers = 8;
            Assert.That(Bits(Draw(g => g.Uniform([300_001]), 5, 11)), Is.EqualTo(Bits(us)));
            Assert.That(Bits(Draw(g => g.Normal([300_001]), 5, 11)), Is.EqualTo(Bits(ns)));
        }
        finally
        {
            CpuParallel.Workers = saved;
        }
    }

    [Test]
    public void RejectsBadParameters()
    {
        var g = new Generator(1);
        Assert.That(() => g.Normal([2], null, 0, -1), Throws.ArgumentException.With.Message.Contains("Generator.Normal"));
        Assert.That(() => g.Normal([2], null, float.NaN), Throws.ArgumentException.With.Message.Contains("Generator.Normal"));
        Assert.That(() => g.Uniform([2], null, 2, 1), Throws.ArgumentException.With.Message.Contains("Generator.Uniform"));
        Assert.That(g.Offset, Is.EqualTo(0UL), "a rejected draw consumes nothing");
    }
}
