using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Random;

namespace DiffKernels.Tests.Diffusion.Data;

public class ToyDistributionTests
{
    private const int N = 40_000;

    private static (double[] Mean, double[] Var) Moments(float[] p)
    {
        int n = p.Length / 2;
        var mean = new double[2];
        var var = new double[2];
        for (int i = 0; i < n; i++) for (int d = 0; d < 2; d++) mean[d] += p[2 * i + d] / (double)n;
        for (int i = 0; i < n; i++) for (int d = 0; d < 2; d++) var[d] += Math.Pow(p[2 * i + d] - mean[d], 2) / n;
        return (mean, var);
    }

    [TestCaseSource(typeof(ToyDistribution), nameof(ToyDistribution.Names))]
    public void SamplesAreDeterministicBySeed(string name)
    {
        var toy = ToyDistribution.FromName(name);
        Assert.That(toy.Name, Is.EqualTo(name));
        var a = toy.Sample(101, new Generator(5));
        Assert.That(toy.Sample(101, new Generator(5)), Is.EqualTo(a));
        Assert.That(toy.Sample(101, new Generator(6)), Is.Not.EqualTo(a));
        Assert.That(a.All(float.IsFinite));
    }

    [TestCase("8gaussians", 8, 0.1)]
    [TestCase("25gaussians", 25, 0.05)]
    public void MixturesPutEqualMassNearEveryModeWithUnitVariance(string name, int modes, double std)
    {
        var toy = ToyDistribution.FromName(name);
        Assert.That(toy.Modes, Has.Count.EqualTo(modes));
        Assert.That(toy.Modes.All(m => m.Std == std));
        var p = toy.Sample(N, new Generator(1));
        var (mean, var) = Moments(p);
        // Centres have per-coordinate variance exactly 1; the spread adds std².
        for (int d = 0; d < 2; d++)
        {
            Assert.That(mean[d], Is.EqualTo(0).Within(0.03));
            Assert.That(var[d], Is.EqualTo(1 + std * std).Within(0.04));
        }
        var counts = new int[modes];
        double sumSq = 0;
        for (int i = 0; i < N; i++)
        {
            var (k, dist) = toy.Modes.Select((m, j) => (j, Math.Sqrt(Math.Pow(p[2 * i] - m.X, 2) + Math.Pow(p[2 * i + 1] - m.Y, 2)))).MinBy(t => t.Item2);
            counts[k]++;
            sumSq += dist * dist;
        }
        // Nearest-centre distances: E[r²] = 2·std² for an isotropic 2D Gaussian.
        Assert.That(sumSq / N, Is.EqualTo(2 * std * std).Within(0.1 * 2 * std * std));
        foreach (var c in counts) Assert.That(c / (double)N, Is.EqualTo(1.0 / modes).Within(0.25 / modes));
    }

    [Test]
    public void CheckerboardIsUniformOverTheDarkSquares()
    {
        var p = new CheckerboardToy().Sample(N, new Generator(2));
        var (mean, var) = Moments(p);
        double side = Math.Sqrt(3) / 2;
        var counts = new Dictionary<(int, int), int>();
        for (int i = 0; i < N; i++)
        {
            Assert.That(CheckerboardToy.OnBoard(p[2 * i], p[2 * i + 1]), $"point {i} ({p[2 * i]}, {p[2 * i + 1]}) is off the dark squares");
            var key = ((int)Math.Floor(p[2 * i] / side), (int)Math.Floor(p[2 * i + 1] / side));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.That(counts, Has.Count.EqualTo(8));
        foreach (var c in counts.Values) Assert.That(c / (double)N, Is.EqualTo(0.125).Within(0.01));
        for (int d = 0; d < 2; d++)
        {
            Assert.That(mean[d], Is.EqualTo(0).Within(0.03));
            Assert.That(var[d], Is.EqualTo(1).Within(0.04));
        }
        Assert.That(CheckerboardToy.OnBoard(0.1, 0.1), Is.True);
        Assert.That(CheckerboardToy.OnBoard(-0.1, 0.1), Is.False);
        Assert.That(CheckerboardToy.OnBoard(5, 5), Is.False);
    }

    [Test]
    public void SwissRollFollowsItsSpiral()
    {
        var p = new SwissRollToy().Sample(N, new Generator(3));
        var (_, var) = Moments(p);
        Assert.That((var[0] + var[1]) / 2, Is.EqualTo(0.96).Within(0.06), "about unit variance");
        // The radius (×7) is the spiral parameter t ∈ [1.5π, 4.5π] up to noise of std 0.5.
        foreach (var i in Enumerable.Range(0, N))
        {
            double r = 7 * Math.Sqrt(p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1]);
            Assert.That(r, Is.InRange(1.5 * Math.PI - 3, 4.5 * Math.PI + 3));
        }
    }

    [Test]
    public void TwoMoonsAreCentredWithTheirKnownSpread()
    {
        var p = new TwoMoonsToy().Sample(N, new Generator(4));
        var (mean, var) = Moments(p);
        Assert.That(mean[0], Is.EqualTo(0).Within(0.03));
        Assert.That(mean[1], Is.EqualTo(0).Within(0.03));
        // Unscaled variances are 0.76 and 0.25 (moons plus noise 0.1²); the scale √2 doubles them.
        Assert.That(var[0], Is.EqualTo(1.52).Within(0.05));
        Assert.That(var[1], Is.EqualTo(0.51).Within(0.03));
        // Every point is within 5 noise std (×√2) of one of the two unit half circles.
        for (int i = 0; i < N; i++)
        {
            double x = p[2 * i] / Math.Sqrt(2) + 0.5, y = p[2 * i + 1] / Math.Sqrt(2) + 0.25;
            double upper = Math.Abs(Math.Sqrt(x * x + y * y) - 1), lower = Math.Abs(Math.Sqrt((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5)) - 1);
            Assert.That(Math.Min(upper, lower), Is.LessThan(0.5));
        }
    }

    [Test]
    public void UnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => ToyDistribution.FromName("spiral"));
        Assert.That(e!.Message, Does.Contain("spiral").And.Contain("8gaussians").And.Contain("moons"));
    }
}
