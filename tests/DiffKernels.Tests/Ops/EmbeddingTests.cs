using DiffKernels.Ops;
using DiffKernels.Tensors;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Ops;

public class EmbeddingTests
{
    private static double[] TimestepRef(double[] t, int dim, double maxPeriod)
    {
        int half = dim / 2;
        var y = new double[t.Length * dim];
        for (int r = 0; r < t.Length; r++)
            for (int i = 0; i < half; i++)
            {
                double phase = t[r] * Math.Exp(-Math.Log(maxPeriod) * i / half);
                y[r * dim + i] = Math.Cos(phase);
                y[r * dim + half + i] = Math.Sin(phase);
            }
        return y;
    }

    [TestCase(5, 8, 10000f, 1000.0)]
    [TestCase(4, 6, 10000f, 1000.0)]
    [TestCase(3, 2, 10000f, 3.0)]
    [TestCase(6, 10, 100f, 50.0)]
    [TestCase(1, 32, 10000f, 1.0)]
    public void TimestepEmbeddingMatchesFormula(int n, int dim, float maxPeriod, double tMax)
    {
        OpCheck.Run($"timestep n={n} dim={dim}", [new Shape(n)],
            x => F.TimestepEmbedding(x[0], dim, maxPeriod),
            x => TimestepRef(x[0], dim, maxPeriod),
            new OpCheckOptions { Sample = (_, r) => r.NextDouble() * tMax, OutputShape = new Shape(n, dim) });
    }

    [Test]
    public void LargeInputsSplitAcrossWorkers()
    {
        OpCheck.Run("timestep large", [new Shape(2000)], x => F.TimestepEmbedding(x[0], 64), x => TimestepRef(x[0], 64, 10000),
            new OpCheckOptions { Sample = (_, r) => r.NextDouble() * 1000, Differentiable = [false] });
        WorkerSweep.AssertIndependentOfWorkers([new Shape(2000)], x => F.TimestepEmbedding(x[0], 64));
    }

    [Test]
    public void KnownValues()
    {
        using var _ = Tensor.Scope();
        // dim 4: frequencies 1 and 1/100; cos half first.
        var y = F.TimestepEmbedding(Tensor.FromArray([0f, 2f]), 4).ToArray();
        float[] expected = [1, 1, 0, 0, MathF.Cos(2), MathF.Cos(0.02f), MathF.Sin(2), MathF.Sin(0.02f)];
        Assert.That(y, Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void ArgumentErrors()
    {
        using var _ = Tensor.Scope();
        var ex = Assert.Throws<ArgumentException>(() => F.TimestepEmbedding(Tensor.Zeros([3]), 7));
        Assert.That(ex!.Message, Does.Contain("TimestepEmbedding").And.Contain("7"));
        ex = Assert.Throws<ArgumentException>(() => F.TimestepEmbedding(Tensor.Zeros([3, 1]), 8));
        Assert.That(ex!.Message, Does.Contain("TimestepEmbedding").And.Contain("[3, 1]"));
    }
}
