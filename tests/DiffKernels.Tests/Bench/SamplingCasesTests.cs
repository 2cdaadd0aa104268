using System.Text.RegularExpressions;
using DiffKernels.Bench.Cases;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Bench;

/// <summary>
/// The PyTorch side of the sampling cases draws what ours draws: bench/torch/sampling.py keeps its own case table, and a
/// ratio of images/s between different batch sizes would compare per-call overheads, not the samplers.
/// </summary>
public class SamplingCasesTests
{
    [Test]
    public void ThePythonCaseTableNamesTheSameCheckpointsAndImagesPerRun()
    {
        string script = File.ReadAllText(RepoFiles.At("bench", "torch", "sampling.py"));
        var table = Regex.Matches(script, @"""(sample-[a-z0-9-]+)"":\s*\(""([^""]+)"",\s*(\d+)\)")
            .ToDictionary(m => m.Groups[1].Value, m => (File: m.Groups[2].Value, Images: int.Parse(m.Groups[3].Value)));
        Assert.That(table.Keys, Is.EquivalentTo(SamplingCases.All().Select(c => c.Name)));
        Assert.That(table["sample-student-xs"], Is.EqualTo((SamplingCases.StudentFile, SamplingCases.StudentImages)));
        Assert.That(table["sample-teacher-heun35"], Is.EqualTo((SamplingCases.TeacherFile, SamplingCases.TeacherImages)));
    }
}
