using DiffKernels.Bench;
using DiffKernels.Bench.Harness;
using DiffKernels.Bench.Report;

namespace DiffKernels.Tests.Bench;

/// <summary>The saved report (JSON with machine, command and results) and its ratio chart.</summary>
public class ReportTests
{
    private static readonly BenchResult[] Results =
    [
        new("gemm-1024", "cpu", "GFLOP/s", 180, "openblas", 190, 0.947, 11.9, 1.5, 20, 11.3, 0.8, null),
        new("unet-s-train", "cpu", "ms/step", 900, null, null, null, 900, 3, 7, null, null, "no in-process baseline", PeakRssMb: 1200),
    ];

    [Test]
    public void SavedReportRoundTripsAndNamesItsMachineAndCommand()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dk-bench-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var report = new BenchReport("2026-01-02T03:04:05Z", "dk bench --save", "abc1234", MachineInfo.Current(), [0.5, 0.4, 0.3], [0.6, 0.5, 0.4],
                "libopenblas.so.0: test", null, Results);
            var settings = new BenchSettings([], "cpu", TimingOptions.Quick, VsTorch: false, Python: null, RepoRoot: dir);
            var (json, chart) = BenchSession.Save(report, settings, dir);
            Assert.That(Path.GetFileName(json), Is.EqualTo("cpu-2026-01-02.json"));
            var back = BenchReport.Load(json);
            Assert.That(back.Command, Is.EqualTo("dk bench --save"));
            Assert.That(back.GitCommit, Is.EqualTo("abc1234"));
            Assert.That(back.Machine.Cores, Is.EqualTo(Environment.ProcessorCount));
            Assert.That(back.LoadAverageBefore, Is.EqualTo(new[] { 0.5, 0.4, 0.3 }));
            Assert.That(back.Results, Is.EqualTo(Results));
            Assert.That(File.ReadAllText(json), Does.Contain("\"git_commit\"").And.Contain("\"load_average_before\""));

            Assert.That(chart, Is.Not.Null);
            var png = File.ReadAllBytes(chart!);
            Assert.That(png.Take(8), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "PNG signature");
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void NoChartWithoutAnyRatio()
    {
        string path = Path.Combine(Path.GetTempPath(), "dk-bench-" + Guid.NewGuid().ToString("N") + ".png");
        Assert.That(RatioChart.Save([Results[1]], "t", path), Is.False);
        Assert.That(File.Exists(path), Is.False);
    }
}
