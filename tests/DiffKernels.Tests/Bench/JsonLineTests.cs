using System.Text.Json;
using DiffKernels.Bench;

namespace DiffKernels.Tests.Bench;

/// <summary>The JSON-lines contract scripts rely on.</summary>
public class JsonLineTests
{
    private static readonly BenchResult Sample = new("gemm-1024", "cpu", "GFLOP/s", 180.5, "openblas", 190.25, 0.9488,
        11.9, 1.5, 20, 11.29, 0.8, null);

    [Test]
    public void OneLineWithTheRequiredSnakeCaseKeys()
    {
        string line = Sample.ToJsonLine();
        Assert.That(line, Does.Not.Contain('\n'));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.That(root.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(root.GetProperty("case").GetString(), Is.EqualTo("gemm-1024"));
        Assert.That(root.GetProperty("backend").GetString(), Is.EqualTo("cpu"));
        Assert.That(root.GetProperty("unit").GetString(), Is.EqualTo("GFLOP/s"));
        Assert.That(root.GetProperty("ours").GetDouble(), Is.EqualTo(180.5));
        Assert.That(root.GetProperty("baseline_name").GetString(), Is.EqualTo("openblas"));
        Assert.That(root.GetProperty("baseline").GetDouble(), Is.EqualTo(190.25));
        Assert.That(root.GetProperty("ratio").GetDouble(), Is.EqualTo(0.9488));
        Assert.That(root.GetProperty("ours_ms").GetDouble(), Is.EqualTo(11.9));
        Assert.That(root.GetProperty("runs").GetInt32(), Is.EqualTo(20));
    }

    [Test]
    public void MissingBaselineIsWrittenAsNullsWithTheReason()
    {
        var r = Sample with { BaselineName = null, Baseline = null, Ratio = null, BaselineMs = null, BaselineSpreadPct = null, Note = "OpenBLAS not found" };
        using var doc = JsonDocument.Parse(r.ToJsonLine());
        var root = doc.RootElement;
        Assert.That(root.GetProperty("baseline").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("baseline_name").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("ratio").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(root.GetProperty("note").GetString(), Is.EqualTo("OpenBLAS not found"));
    }

    [Test]
    public void LinesRoundTrip() => Assert.That(BenchResult.FromJsonLine(Sample.ToJsonLine()), Is.EqualTo(Sample));

    [Test]
    public void AgainstAnotherImplementationRecomputesTheRatio()
    {
        var torch = Sample with { Backend = "torch-1.13", Ours = 361.0, OursMs = 5.95, PeakRssMb = 900, Note = "torch 1.13, 2 threads" };
        var r = Sample.Against(torch, BenchUnit.GflopPerSecond);
        Assert.That(r.BaselineName, Is.EqualTo("torch-1.13"));
        Assert.That(r.Baseline, Is.EqualTo(361.0));
        Assert.That(r.BaselineMs, Is.EqualTo(5.95));
        Assert.That(r.BaselinePeakRssMb, Is.EqualTo(900));
        Assert.That(r.Note, Is.EqualTo("torch 1.13, 2 threads"));
        Assert.That(r.Ratio, Is.EqualTo(0.5).Within(1e-3));
        var step = Sample with { Unit = "ms/step", Ours = 1000 };
        Assert.That(step.Against(step with { Ours = 2000 }, BenchUnit.MsPerStep).Ratio, Is.EqualTo(2.0), "half the time per step is twice as fast");
    }

    [TestCase(123.456789, 123.5)]
    [TestCase(0.000123456, 0.0001235)]
    [TestCase(98765.4321, 98765.0)]
    [TestCase(0.0, 0.0)]
    public void FiguresKeepFourSignificantDigits(double v, double rounded) =>
        Assert.That(BenchResult.Round(v), Is.EqualTo(rounded).Within(1e-12));
}
