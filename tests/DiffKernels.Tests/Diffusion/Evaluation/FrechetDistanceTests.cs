using DiffKernels.Diffusion.Evaluation;
using MathNet.Numerics.LinearAlgebra;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>Fréchet distance against closed forms and its behaviour on degenerate inputs.</summary>
public class FrechetDistanceTests
{
    private static readonly MatrixBuilder<double> M = Matrix<double>.Build;
    private static readonly VectorBuilder<double> V = Vector<double>.Build;

    /// <summary>n samples of N(mean, L·Lᵀ), row-major float.</summary>
    private static float[] Gaussian(int n, double[] mean, double[,] l, int seed)
    {
        int d = mean.Length;
        var rng = new System.Random(seed);
        var x = new float[n * d];
        var z = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
                z[j] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            for (int r = 0; r < d; r++)
            {
                double v = mean[r];
                for (int c = 0; c <= r; c++) v += l[r, c] * z[c];
                x[i * d + r] = (float)v;
            }
        }
        return x;
    }

    [Test]
    public void ASetIsAtZeroDistanceFromItself()
    {
        var x = Gaussian(3000, [1, -2, 0.5, 3], new double[,] { { 1, 0, 0, 0 }, { 0.5, 2, 0, 0 }, { -1, 0.3, 0.7, 0 }, { 0.2, 0.2, 0.2, 0.1 } }, 1);
        var s = FeatureStatistics.From(x, 3000, 4);
        Assert.That(FrechetDistance.Compute(s, s), Is.LessThan(1e-9 * s.Covariance.Trace()));
        Assert.That(FrechetDistance.Compute(x, x, 4), Is.LessThan(1e-9 * s.Covariance.Trace()));
    }

    [Test]
    public void TwoByTwoNonCommutingCovariancesMatchTheClosedForm()
    {
        // For 2×2 PSD matrices, Tr (Σ₁Σ₂)^½ = √(Tr Σ₁Σ₂ + 2√(det Σ₁·det Σ₂)) — no eigendecomposition involved.
        var s1 = M.DenseOfArray(new double[,] { { 2.0, 0.8 }, { 0.8, 1.0 } });
        var s2 = M.DenseOfArray(new double[,] { { 0.5, -0.3 }, { -0.3, 3.0 } });
        var m1 = V.DenseOfArray([0.3, -1.0]);
        var m2 = V.DenseOfArray([1.5, 0.5]);
        double traceRoot = Math.Sqrt((s1 * s2).Trace() + 2 * Math.Sqrt(s1.Determinant() * s2.Determinant()));
        double expected = (m1 - m2).DotProduct(m1 - m2) + s1.Trace() + s2.Trace() - 2 * traceRoot;
        double fd = FrechetDistance.Compute(new FeatureStatistics(m1, s1, 100), new FeatureStatistics(m2, s2, 100));
        Assert.That(fd, Is.EqualTo(expected).Within(1e-12 * expected));
        Assert.That(FrechetDistance.Compute(new FeatureStatistics(m2, s2, 100), new FeatureStatistics(m1, s1, 100)), Is.EqualTo(fd).Within(1e-12 * fd), "symmetric");
    }

    [Test]
    public void DiagonalCovariancesGiveTheSumOfSquaredStdDifferences()
    {
        double[] a = [1, 4, 9, 0.25, 2], b = [4, 1, 9, 1, 0.5];
        var ma = V.Dense(5, i => i);
        var mb = V.Dense(5, i => 2 * i);
        double expected = Enumerable.Range(0, 5).Sum(i => i * i + Math.Pow(Math.Sqrt(a[i]) - Math.Sqrt(b[i]), 2));
        double fd = FrechetDistance.Compute(new FeatureStatistics(ma, M.DenseOfDiagonalArray(a), 10), new FeatureStatistics(mb, M.DenseOfDiagonalArray(b), 10));
        Assert.That(fd, Is.EqualTo(expected).Within(1e-10));
    }

    [Test]
    public void SampleEstimatesApproachTheClosedFormOfTheirGaussians()
    {
        // L₁ and L₂ are Cholesky factors; the population distance follows from Σ = LLᵀ exactly.
        var l1 = new double[,] { { 1.0, 0, 0 }, { 0.6, 0.8, 0 }, { -0.4, 0.2, 0.5 } };
        var l2 = new double[,] { { 0.5, 0, 0 }, { -0.3, 1.2, 0 }, { 0.1, 0.7, 0.9 } };
        double[] mu1 = [0, 1, -1], mu2 = [0.5, 0.5, 0];
        var s1 = M.DenseOfArray(l1) * M.DenseOfArray(l1).Transpose();
        var s2 = M.DenseOfArray(l2) * M.DenseOfArray(l2).Transpose();
        double exact = FrechetDistance.Compute(new FeatureStatistics(V.DenseOfArray(mu1), s1, 0), new FeatureStatistics(V.DenseOfArray(mu2), s2, 0));
        double est = FrechetDistance.Compute(Gaussian(40_000, mu1, l1, 2), Gaussian(40_000, mu2, l2, 3), 3);
        Assert.That(exact, Is.GreaterThan(0.5), "a distance worth estimating");
        Assert.That(est, Is.EqualTo(exact).Within(0.03 * exact));
    }

    [Test]
    public void ShiftingIdenticalSetsCostsTheSquaredShift()
    {
        var x = Gaussian(500, [0, 0, 0], new double[,] { { 1, 0, 0 }, { 0.9, 0.1, 0 }, { 0.9, 0.05, 0.05 } }, 4);
        var y = x.Select((v, i) => v + (i % 3 == 1 ? 2f : 0f)).ToArray();
        Assert.That(FrechetDistance.Compute(x, y, 3), Is.EqualTo(4).Within(1e-4));
    }

    [Test]
    public void SingularCovariancesStayFinite()
    {
        // 6 samples in 20 dimensions: rank-5 covariances whose product has many zero eigenvalues.
        var rng = new System.Random(5);
        var a = Enumerable.Range(0, 6 * 20).Select(_ => (float)rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 6 * 20).Select(_ => (float)rng.NextDouble()).ToArray();
        var sa = FeatureStatistics.From(a, 6, 20);
        double fd = FrechetDistance.Compute(a, b, 20);
        Assert.That(double.IsFinite(fd) && fd > 0);
        Assert.That(FrechetDistance.Compute(sa, sa), Is.LessThan(1e-9 * sa.Covariance.Trace()));
        // Rank-one covariances: the exact answer is known.
        var ones = new FeatureStatistics(V.Dense(2), M.DenseOfArray(new double[,] { { 1, 0 }, { 0, 0 } }), 2);
        var twos = new FeatureStatistics(V.Dense(2), M.DenseOfArray(new double[,] { { 4, 0 }, { 0, 0 } }), 2);
        Assert.That(FrechetDistance.Compute(ones, twos), Is.EqualTo(1).Within(1e-12));
    }

    [Test]
    public void StatisticsUseTheUnbiasedCovarianceAndRejectBadInput()
    {
        var s = FeatureStatistics.From(new float[] { 1, 10, 3, 10, 5, 13 }, 3, 2);
        Assert.That(s.Mean.ToArray(), Is.EqualTo(new[] { 3.0, 11.0 }));
        Assert.That(s.Covariance[0, 0], Is.EqualTo(4.0).Within(1e-12));
        Assert.That(s.Covariance[1, 1], Is.EqualTo(3.0).Within(1e-12));
        Assert.That(s.Covariance[0, 1], Is.EqualTo(3.0).Within(1e-12));
        Assert.Throws<ArgumentException>(() => FeatureStatistics.From(new float[] { 1, 2 }, 1, 2));
        Assert.Throws<ArgumentException>(() => FrechetDistance.Compute(s, FeatureStatistics.From(new float[] { 1, 2, 3 }, 3, 1)));
    }
}
