using DiffKernels.Diffusion.Evaluation;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>k-NN precision and recall against a brute-force double-precision reference and on clear-cut cases.</summary>
public class PrecisionRecallTests
{
    private static float[] Cloud(int n, int dim, float centre, float spread, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n * dim).Select(_ => centre + spread * (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static double Dist2(float[] a, int i, float[] b, int j, int d)
    {
        double s = 0;
        for (int c = 0; c < d; c++) s += Math.Pow((double)a[i * d + c] - b[j * d + c], 2);
        return s;
    }

    /// <summary>The definition, literally: k-th nearest other point's distance, then membership in any ball.</summary>
    private static (double P, double R) Reference(float[] real, float[] fake, int d, int k)
    {
        double[] Radii(float[] x) => Enumerable.Range(0, x.Length / d)
            .Select(i => Enumerable.Range(0, x.Length / d).Where(j => j != i).Select(j => Dist2(x, i, x, j, d)).Order().ElementAt(k - 1)).ToArray();
        double Inside(float[] q, float[] refs, double[] radii) =>
            Enumerable.Range(0, q.Length / d).Count(i => Enumerable.Range(0, refs.Length / d).Any(j => Dist2(q, i, refs, j, d) <= radii[j])) / (double)(q.Length / d);
        return (Inside(fake, real, Radii(real)), Inside(real, fake, Radii(fake)));
    }

    [TestCase(3, 1)]
    [TestCase(5, 2)]
    [TestCase(7, 3)]
    public void MatchesTheBruteForceDefinition(int dim, int k)
    {
        var real = Cloud(700, dim, 0f, 1f, dim);         // more than one 512-row block
        var fake = Cloud(300, dim, 0.4f, 1.1f, dim + 10);
        var (p, r) = Reference(real, fake, dim, k);
        var got = PrecisionRecall.Compute(real, fake, dim, k);
        Assert.That(p, Is.InRange(0.05, 0.95), "a non-trivial case");
        Assert.That(got.Precision, Is.EqualTo(p).Within(1.0 / 300 + 1e-12));
        Assert.That(got.Recall, Is.EqualTo(r).Within(1.0 / 700 + 1e-12));
    }

    [Test]
    public void IdenticalSetsScoreOneAndDisjointSetsZero()
    {
        var x = Cloud(200, 4, 0f, 1f, 1);
        Assert.That(PrecisionRecall.Compute(x, x, 4), Is.EqualTo(new PrecisionRecallResult(1, 1)));
        var far = Cloud(150, 4, 100f, 1f, 2);
        Assert.That(PrecisionRecall.Compute(x, far, 4), Is.EqualTo(new PrecisionRecallResult(0, 0)));
    }

    [Test]
    public void DroppingModesLowersRecallButNotPrecision()
    {
        // Real: four tight clusters; generated: two of them only.
        float[] Clusters(int[] centres, int per, int seed) => centres.SelectMany((c, i) => Cloud(per, 2, c, 0.5f, seed + i)).ToArray();
        var real = Clusters([0, 10, 20, 30], 100, 10);
        var fake = Clusters([0, 20], 200, 20);
        var pr = PrecisionRecall.Compute(real, fake, 2);
        Assert.That(pr.Precision, Is.GreaterThan(0.95));
        Assert.That(pr.Recall, Is.InRange(0.45, 0.55));
    }

    [Test]
    public void TooFewPointsOrMismatchedDimensionsAreRejected()
    {
        var x = Cloud(3, 2, 0f, 1f, 1);
        Assert.Throws<ArgumentException>(() => PrecisionRecall.Compute(x, Cloud(10, 2, 0f, 1f, 2), 2, k: 3));
        Assert.Throws<ArgumentException>(() => PrecisionRecall.Compute(Cloud(10, 2, 0f, 1f, 2), new float[5], 2));
    }
}
