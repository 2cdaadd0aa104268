using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Random;
using DiffKernels.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Tests.Diffusion.Evaluation;

public class ToyMetricsTests
{
    private static float[] Gaussian(int n, ulong seed, float dx = 0, float dy = 0)
    {
        using var _ = Tensor.Scope();
        var z = new Generator(seed).Normal([n, 2]).ToArray();
        for (int i = 0; i < n; i++)
        {
            z[2 * i] += dx;
            z[2 * i + 1] += dy;
        }
        return z;
    }

    [Test]
    public void SlicedWassersteinOfASetWithItselfIsZeroAlsoAgainstDuplicates()
    {
        var a = Gaussian(500, 1);
        Assert.That(ToyMetrics.SlicedWasserstein(a, a), Is.Zero);
        Assert.That(ToyMetrics.SlicedWasserstein(a, [.. a, .. a]), Is.EqualTo(0).Within(1e-12), "every point twice is the same distribution");
    }

    [Test]
    public void SlicedWassersteinOfAShiftedCopyFollowsTheProjectionFormula()
    {
        // Each projection of a + δ is the projection of a shifted by θ·δ, so W₂ = |θ·δ| and SW₂ = |δ|·√E[cos²] = |δ|/√2 in 2D.
        var a = Gaussian(2000, 2);
        var b = Gaussian(2000, 2, 0.6f, -0.8f);
        double sw = ToyMetrics.SlicedWasserstein(a, b, projections: 512);
        Assert.That(sw, Is.EqualTo(1.0 / Math.Sqrt(2)).Within(0.04));
        Assert.That(ToyMetrics.SlicedWasserstein(a, b, projections: 512), Is.EqualTo(sw), "deterministic by seed");
        Assert.That(ToyMetrics.SlicedWasserstein(a, b, projections: 512, seed: 9), Is.Not.EqualTo(sw));

        // Independent samples: the shift adds to the sampling floor in quadrature.
        var c = Gaussian(4000, 3);
        var d = Gaussian(4000, 4);
        var e = Gaussian(4000, 5, 0.6f, -0.8f);
        double floor = ToyMetrics.SlicedWasserstein(c, d), shifted = ToyMetrics.SlicedWasserstein(c, e);
        Assert.That(floor, Is.LessThan(0.06));
        Assert.That(shifted, Is.EqualTo(Math.Sqrt(0.5 + floor * floor)).Within(0.05));
    }

    [Test]
    public void OneDimensionalDistanceComparesQuantileFunctionsOfUnequalSizes()
    {
        // Quantiles of {0, 1} and {0, 1, 2} differ by 1 on [1/3, 1/2) and [2/3, 1): W₂² = 1/6 + 1/3.
        Assert.That(ToyMetrics.SlicedWasserstein([0f, 1f], [0f, 1f, 2f], dim: 1), Is.EqualTo(Math.Sqrt(0.5)).Within(1e-12));
        Assert.That(ToyMetrics.SlicedWasserstein([0f], [3f], dim: 1, projections: 3), Is.EqualTo(3).Within(1e-12));
        Assert.Throws<ArgumentException>(() => ToyMetrics.SlicedWasserstein([1f, 2f, 3f], [1f, 2f]));
    }

    [Test]
    public void CoverageCountsModesAboveOnePercentAndPointsOffEveryMode()
    {
        var toy = GaussianMixtureToy.EightGaussians();
        var points = new List<float>();
        // 6 modes get 15 points each, mode 6 gets 0.5% (under the 1% bar), mode 7 none; 5 points sit at the origin.
        for (int k = 0; k < 6; k++)
            for (int i = 0; i < 15; i++) points.AddRange([(float)(toy.Modes[k].X + 0.1 * Math.Cos(i)), (float)(toy.Modes[k].Y + 0.1 * Math.Sin(i))]);
        var m6 = toy.Modes[6];
        points.AddRange([(float)(m6.X + 0.29), (float)m6.Y]);
        for (int i = 0; i < 5; i++) points.AddRange([0f, 0f]);
        // 96 points so far; pad to 200 with points on mode 0's 3-std boundary but outside it.
        while (points.Count < 400) points.AddRange([(float)(toy.Modes[0].X + 0.31), (float)toy.Modes[0].Y]);
        var c = ToyMetrics.Coverage(points.ToArray(), toy.Modes);
        Assert.That(c.Total, Is.EqualTo(8));
        Assert.That(c.Covered, Is.EqualTo(6));
        Assert.That(c.Fractions[6], Is.EqualTo(0.005).Within(1e-12));
        Assert.That(c.Fractions[7], Is.Zero);
        Assert.That(c.OffModeFraction, Is.EqualTo((5 + 104) / 200.0).Within(1e-12));
        Assert.That(ToyMetrics.Coverage(toy.Sample(5000, new Generator(1)), toy.Modes).Covered, Is.EqualTo(8));
    }

    [Test]
    public void ScatterPlotDrawsPointsDensityAndModes()
    {
        using var dir = new TempDir();
        string path = dir.File("scatter.png");
        var toy = GaussianMixtureToy.EightGaussians();
        ToyScatterPlot.Save(path, [1f, 1f], toy.Sample(20_000, new Generator(1)), toy.Modes, size: 300, extent: 3);
        using var image = Image.Load<Rgba32>(path);
        Assert.That(image.Width, Is.EqualTo(300));
        // (1, 1) maps to pixel (200, 100); the point is dark, the origin is white but for the axes.
        Assert.That(image[200, 100].R, Is.LessThan(150));
        Assert.That(image[20, 20], Is.EqualTo(new Rgba32(255, 255, 255)));
        // The mode at (√2, 0) sits on blue density.
        var m = image[(int)((Math.Sqrt(2) + 3) * 50) + 3, 150 - 3];
        Assert.That(m.B, Is.GreaterThan(m.R));
        // Its 3-std circle (radius 0.3 → 15 px) is orange.
        var ring = image[(int)((Math.Sqrt(2) + 3) * 50) + 15, 150 - 1];
        Assert.That(ring.R, Is.GreaterThan(200));
        Assert.That(ring.B, Is.LessThan(100));
    }
}

public class ToyEvaluationTests
{
    [Test]
    public void TheExactDenoiserScoresAtTheFloorAndCoversEveryMode()
    {
        var toy = GaussianMixtureToy.EightGaussians();
        var edm = new DiffKernels.Diffusion.Schedules.Edm();
        var net = new MixtureDenoiserNet(edm, toy.Modes);
        var (report, samples) = ToyEvaluation.Evaluate(net, edm, toy, 2000, new DiffKernels.Diffusion.Sampling.SamplerOptions(Seed: 3));
        Assert.That(samples, Has.Length.EqualTo(4000));
        Assert.That(report.Nfe, Is.EqualTo(35));
        Assert.That(report.Coverage!.Covered, Is.EqualTo(8));
        Assert.That(report.Coverage.OffModeFraction, Is.LessThan(0.03), "a 2D Gaussian puts 1.1% outside 3 std");
        Assert.That(report.Floor, Is.InRange(0.005, 0.1));
        Assert.That(report.FloorRatio, Is.LessThan(1.6), $"SW {report.SlicedWasserstein} vs floor {report.Floor}");
        Assert.That(report.MsPerSample, Is.GreaterThan(0));

        var (again, _) = ToyEvaluation.Evaluate(net, edm, toy, 2000, new DiffKernels.Diffusion.Sampling.SamplerOptions(Seed: 3));
        Assert.That(again.SlicedWasserstein, Is.EqualTo(report.SlicedWasserstein), "deterministic by seed");
    }

    [Test]
    public void ToysWithoutModesReportNoCoverage()
    {
        var toy = new CheckerboardToy();
        var edm = new DiffKernels.Diffusion.Schedules.Edm();
        var net = new GaussianDenoiserNet(edm, 1, [0, 0]);
        var (report, _) = ToyEvaluation.Evaluate(net, edm, toy, 500, new DiffKernels.Diffusion.Sampling.SamplerOptions(Steps: 10));
        Assert.That(report.Coverage, Is.Null);
        Assert.That(report.FloorRatio, Is.GreaterThan(1.5), "a Gaussian is far from a checkerboard");
    }
}
