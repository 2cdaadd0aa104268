using DiffKernels.Bench;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Bench;

/// <summary>`dk bench` end to end on a fast case, and case selection.</summary>
public class BenchCommandTests
{
    [Test]
    public void JsonModePrintsOneParsableLinePerCase()
    {
        var (code, stdout, stderr) = Dk("bench", "adam", "--quick", "--json");
        Assert.That(code, Is.EqualTo(0), stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        var r = BenchResult.FromJsonLine(lines[0]);
        Assert.That(r.Case, Is.EqualTo("adam"));
        Assert.That(r.Backend, Is.EqualTo("cpu"));
        Assert.That(r.Unit, Is.EqualTo("GB/s"));
        Assert.That(r.Ours, Is.GreaterThan(0));
        Assert.That(r.Runs, Is.EqualTo(3));
        Assert.That(r.BaselineName, Is.EqualTo("stream r4w3 in place"));
        Assert.That(r.Ratio, Is.EqualTo(r.Ours / r.Baseline).Within(0.01 * r.Ratio!.Value));
    }

    [Test]
    public void TableModeListsTheCase()
    {
        var (code, stdout, stderr) = Dk("bench", "silu-bwd", "--quick");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("silu-bwd").And.Contain("GB/s").And.Contain("ratio"));
    }

    [Test]
    public void UnknownCaseOrBackendIsAUserError()
    {
        var (code, _, stderr) = Dk("bench", "no-such-case", "--quick");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("unknown case 'no-such-case'").And.Contain("gemm-1024"));
        (code, _, stderr) = Dk("bench", "adam", "--backend", "tpu");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("unknown backend 'tpu'"));
    }

    [Test]
    public void GroupNamesSelectTheirCasesInCatalogueOrder()
    {
        var conv = BenchCatalog.Select(["conv2d"]).Select(c => c.Name);
        Assert.That(conv, Is.EqualTo(new[] { "conv2d-fwd", "conv2d-bwd-data", "conv2d-bwd-weight" }));
        var mixed = BenchCatalog.Select(["adam", "gemm-1024"]).Select(c => c.Name);
        Assert.That(mixed, Is.EqualTo(new[] { "gemm-1024", "adam" }));
        Assert.That(BenchCatalog.Select([]), Has.Count.EqualTo(BenchCatalog.All.Count));
        Assert.That(BenchCatalog.All.Select(c => c.Name), Is.Unique);
    }

    [Test]
    public void ListNamesEveryCase()
    {
        var (code, stdout, _) = Dk("bench", "--list");
        Assert.That(code, Is.EqualTo(0));
        foreach (var c in BenchCatalog.All) Assert.That(stdout, Does.Contain(c.Name));
    }
}

/// <summary>`dk bench --vs-torch` with a stand-in interpreter: the script runs once per case and round, beside ours.</summary>
public class VsTorchTests
{
    [Test]
    [Platform(Exclude = "Win")]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TheScriptRunsOncePerCaseAndRoundAndItsResultsBecomeTheBaseline()
    {
        using var dir = new TempDir();
        string calls = dir.File("calls.txt"), python = dir.File("python");
        // Answers "import torch" and, for a script run, one JSON line per requested case as bench_cases.py does.
        File.WriteAllText(python, $$"""
            #!/bin/sh
            [ "$1" = "-c" ] && exit 0
            while [ $# -gt 0 ]; do [ "$1" = "--cases" ] && cases="$2"; shift; done
            echo "$cases" >> {{calls}}
            for c in $(echo "$cases" | tr ',' ' '); do
              echo "{\"case\":\"$c\",\"backend\":\"torch-fake\",\"unit\":\"GB/s\",\"ours\":2.5,\"ours_ms\":1,\"ours_spread_pct\":1,\"runs\":3}"
            done
            """.Replace("\r", ""));
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (code, stdout, stderr) = Dk("bench", "silu-bwd", "adam", "--quick", "--json", "--vs-torch", "--python", python, "--rounds", "2");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(File.ReadAllLines(calls), Is.EqualTo(new[] { "silu-bwd", "silu-bwd", "adam", "adam" }), "one script run per case and round, in catalogue order");
        var results = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(BenchResult.FromJsonLine).ToList();
        Assert.That(results.Select(r => (r.Case, r.BaselineName, r.Baseline, r.Rounds)),
            Is.EqualTo(new[] { ("silu-bwd", "torch-fake", (double?)2.5, (int?)2), ("adam", "torch-fake", 2.5, 2) }));
        foreach (var r in results)
        {
            Assert.That(r.RoundRatios, Has.Count.EqualTo(2));
            Assert.That(r.Ratio, Is.InRange(r.RatioMin!.Value, r.RatioMax!.Value), "the median lies in the rounds' range");
        }
        Assert.That(stderr, Does.Contain("round 2/2"));
    }
}
