using System.Globalization;
using System.Text.RegularExpressions;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>
/// The README's table of committed toy models against a fresh evaluation of each file with the command beside it
/// (the library's equivalent of `dk eval`: seed 0, N = 10,000, batch 500, the recorded sampler unless the command sets
/// --sigma-max or --steps): every figure must match at the precision printed, so a stale number fails.
/// </summary>
public partial class ToyReadmeTests
{
    private const int N = 10_000;

    [Test]
    public void EveryToyFigureInTheReadmeIsWhatItsCommandMeasures()
    {
        string root = Path.GetDirectoryName(RepoFiles.ModelsDir())!;
        var rows = File.ReadLines(Path.Combine(root, "README.md")).Select(l => Row().Match(l)).Where(m => m.Success).ToList();
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(20), "the README's toy table");
        var teachers = new Dictionary<string, double>();
        Assert.Multiple(() =>
        {
            foreach (var row in rows)
            {
                string command = row.Groups["command"].Value, name = row.Groups["name"].Value;
                var report = Measure(root, command);
                if (name.EndsWith("-teacher", StringComparison.Ordinal)) teachers.TryAdd(report.Toy, report.SlicedWasserstein);
                Assert.That(row.Groups["sampler"].Value, Is.EqualTo($"{report.Sampler.ToString().ToLowerInvariant()}, {report.Nfe}"), command);
                Near(row.Groups["sw"].Value, report.SlicedWasserstein, command + ": SW₂");
                Near(row.Groups["floor"].Value, report.Floor, command + ": floor");
                Near(row.Groups["ratio"].Value, report.FloorRatio, command + ": SW₂ / floor");
                if (row.Groups["vs"].Value != "—") Near(row.Groups["vs"].Value, report.SlicedWasserstein / teachers[report.Toy], command + ": vs teacher");
                string modes = report.Coverage is { } c ? $"{c.Covered}/{c.Total}" : "—";
                Assert.That(row.Groups["modes"].Value, Is.EqualTo(modes), command + ": modes");
            }
        });
    }

    private static ToyReport Measure(string root, string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(words[..2], Is.EqualTo(new[] { "dk", "eval" }), command);
        string? path = null;
        double? sigmaMax = null;
        int? steps = null;
        for (int i = 2; i < words.Length; i += 2)
        {
            string value = words[i + 1];
            switch (words[i])
            {
                case "--model": path = Path.Combine(root, value); break;
                case "--sigma-max": sigmaMax = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: Assert.Fail($"{command}: the test reads --model, --sigma-max and --steps only"); break;
            }
        }
        using var model = PretrainedModel.Load(path!);
        var toy = ToyDistribution.FromName(CheckpointKind.DataSpec(model.Metadata)!["toy:".Length..]);
        var options = model.Options(null, steps, sigmaMax, seed: 0, batchSize: 500, threshold: model.DefaultOptions.Threshold);
        return ToyEvaluation.Evaluate(model, toy, N, options).Report;
    }

    // Equal at the printed precision: within half a unit of its last digit (and a hair more for another CPU's rounding).
    private static void Near(string printed, double measured, string what)
    {
        string digits = printed.TrimEnd('×');
        int decimals = digits.Contains('.') ? digits.Length - digits.IndexOf('.') - 1 : 0;
        double value = double.Parse(digits, CultureInfo.InvariantCulture);
        Assert.That(measured, Is.EqualTo(value).Within(0.51 * Math.Pow(10, -decimals)), $"{what}: README says {printed}, measured {measured.ToString("G6", CultureInfo.InvariantCulture)}");
    }

    [GeneratedRegex(@"^\| `(?<name>toy-[a-z0-9-]+)` \| `(?<command>dk eval [^`]+)` \| (?<sampler>[a-z]+, \d+) \| (?<sw>[\d.]+) \| (?<floor>[\d.]+) \| (?<ratio>[\d.]+×) \| (?<vs>[\d.]+×|—) \| (?<modes>\d+/\d+|—) \|$")]
    private static partial Regex Row();
}
