using System.Text.RegularExpressions;
using DiffKernels.Bench;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Bench;

/// <summary>
/// The device-sized cases: run only when named, each with a tiny shape for rehearsals on the emulator, and timed under
/// the same names by bench/torch/gpu_cases.py, whose lines bench/gpu/ratios.py matches to ours by name.
/// </summary>
public class DeviceCasesTests
{
    [Test]
    public void EveryDeviceCaseHasATinyShapeUnderItsOwnNameAndUnit()
    {
        Assert.That(BenchCatalog.Device, Is.Not.Empty);
        foreach (var c in BenchCatalog.Device)
        {
            Assert.That(c.Tiny, Is.Not.Null, c.Name);
            Assert.That((c.Tiny!.Name, c.Tiny.Group, c.Tiny.Unit), Is.EqualTo((c.Name, c.Group, c.Unit)), c.Name);
            Assert.That(c.Tiny.Work, Is.LessThan(c.Work).Or.EqualTo(0), $"{c.Name}: the tiny shape does less work");
        }
    }

    [Test]
    public void ARunWithoutNamesLeavesThemOutAndTinyNeedsATinyShape()
    {
        Assert.That(BenchCatalog.Select([]).Select(c => c.Name).Intersect(BenchCatalog.Device.Select(c => c.Name)), Is.Empty);
        var tiny = BenchCatalog.Select(["device-gemm", "adam"], tiny: true);
        Assert.That(tiny.Select(c => c.Name), Is.EqualTo(new[] { "adam", "gemm-4096", "gemm-4096-nt", "gemm-4096-tn" }));
        Assert.That(tiny.All(c => c.Tiny == null), "the tiny shapes themselves");
        var e = Assert.Throws<ArgumentException>(() => BenchCatalog.Select(["gemm-1024"], tiny: true));
        Assert.That(e!.Message, Does.Contain("gemm-1024 has no tiny shape"));
    }

    [Test]
    public void ThePyTorchScriptTimesTheSameCases()
    {
        string script = File.ReadAllText(RepoFiles.At("bench", "torch", "gpu_cases.py"));
        // The script builds some names in loops; every name ours runs must be one it can produce.
        var literal = Regex.Matches(script, @"table\[f?""([^""]+)""\]").Select(m => m.Groups[1].Value).ToList();
        Assert.That(literal, Has.Count.GreaterThan(5));
        var expanded = new List<string>();
        foreach (var name in literal)
        {
            var forms = new List<string> { name };
            forms = Expand(forms, "{suffix}", ["", "-nt", "-tn"]);
            forms = Expand(forms, "{side}", ["32", "16", "8"]);
            forms = Expand(forms, "{pass_}", ["fwd", "bwd-data", "bwd-weight"]);
            forms = Expand(forms, "{model}", ["dit-s4", "unet-8x8"]);
            forms = Expand(forms, "{'bwd' if backward else 'fwd'}", ["bwd", "fwd"]);
            expanded.AddRange(forms);
        }
        var ours = BenchCatalog.Device.Select(c => c.Name).Append("adam").Append("sample-student-xs");
        Assert.That(expanded, Is.SupersetOf(ours));
    }

    private static List<string> Expand(List<string> names, string hole, string[] values) =>
        names.SelectMany(n => n.Contains(hole, StringComparison.Ordinal) ? values.Select(v => n.Replace(hole, v, StringComparison.Ordinal)) : [n]).ToList();
}
