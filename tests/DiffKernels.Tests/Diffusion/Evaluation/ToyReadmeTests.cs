using System.Globalization;
using System.Text.RegularExpressions;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Tests.Diffusion.Evaluation;

/// <summary>
/// The toy tables of README.md and models/README.md against a fresh evaluation of the committed files (the library's
/// equivalent of `dk eval`: seed 0, N = 10,000, batch 500, each model's recorded sampler unless the table's command or
/// column says σ_max 80): every figure checked must match at the precision printed, so a stale number fails. Each
/// model and sampler is evaluated once for both tests. Not checked: timings, training settings, wall-clock, the
/// 79-NFE columns and the teacher's plain Euler runs (their commands are beside them in models/README.md).
/// </summary>
[NonParallelizable]
public partial class ToyReadmeTests
{
    private const int N = 10_000;

    private static readonly Dictionary<string, ToyReport> Measured = [];

    private static string Root => Path.GetDirectoryName(RepoFiles.ModelsDir())!;

    [Test]
    public void EveryFigureOfTheReadmesToyTableIsWhatItsCommandMeasures()
    {
        var rows = File.ReadLines(Path.Combine(Root, "README.md")).Select(l => ReadmeRow().Match(l)).Where(m => m.Success).ToList();
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(20), "the README's toy table");
        var teachers = new Dictionary<string, double>();
        Assert.Multiple(() =>
        {
            foreach (var row in rows)
            {
                string command = row.Groups["command"].Value;
                var (model, sigmaMax) = Command(command);
                var report = Measure(model, sigmaMax);
                if (row.Groups["name"].Value.EndsWith("-teacher", StringComparison.Ordinal)) teachers.TryAdd(report.Toy, report.SlicedWasserstein);
                Assert.That(row.Groups["sampler"].Value, Is.EqualTo($"{report.Sampler.ToString().ToLowerInvariant()}, {report.Nfe}"), command);
                Near(row.Groups["sw"].Value, report.SlicedWasserstein, command + ": SW₂");
                Near(row.Groups["floor"].Value, report.Floor, command + ": floor");
                Near(row.Groups["ratio"].Value, report.FloorRatio, command + ": SW₂ / floor");
                if (row.Groups["vs"].Value != "—") Near(row.Groups["vs"].Value, report.SlicedWasserstein / teachers[report.Toy], command + ": vs teacher");
                Assert.That(row.Groups["modes"].Value, Is.EqualTo(Modes(report)), command + ": modes");
            }
        });
    }

    [Test]
    public void TheToyResultTablesOfTheModelsReadmeAreWhatTheCommittedFilesScore()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoFiles.ModelsDir(), "README.md"));
        Assert.Multiple(() =>
        {
            // Teachers with the protocol's sampler (σ_max 80): SW₂, floor, ratio, modes, off-mode.
            foreach (var c in Table(lines, "| toy | SW₂ at 35 NFE | floor | ratio | modes | off-mode |", 5))
            {
                var r = Measure(Teacher(c[0]), 80);
                Check(c, r, sw: 1, floor: 2, floorRatio: 3, modes: 4, offMode: 5);
            }
            // The two teachers with their own recorded samplers, and at σ_max 80 beside them.
            foreach (var c in Table(lines, "| toy | own default | SW₂ | floor | ratio |", 2))
            {
                var own = Measure(Teacher(c[0]), null);
                Check(c, own, sw: 2, floor: 3, floorRatio: 4);
                var edm = Measure(Teacher(c[0]), 80);
                NearWithRatio(c[5], edm.SlicedWasserstein, edm.FloorRatio, $"{c[0]} at σ_max 80");
            }
            // Students against the protocol's teacher (σ_max 80): teacher and student SW₂, ratio, floor, modes, off-mode.
            foreach (var c in Table(lines, "| toy | teacher SW₂ (35 NFE) | student SW₂ (1 NFE) | ratio | floor | modes (teacher / student) |", 3))
                Student(c, $"toy-{c[0]}-diff-instruct", teacher: 1, student: 2, ratio: 3, floor: 4, modes: 5, offMode: 6);
            foreach (var c in Table(lines, "| toy | K | NFE | teacher SW₂ (35 NFE) | student SW₂ | ratio | floor |", 4))
                Student(c, $"toy-{c[0]}-dmd2-k{c[1]}", teacher: 3, student: 4, ratio: 5, floor: 6, modes: 7, offMode: 8);
            foreach (var c in Table(lines, "| toy | teacher SW₂ (35 NFE) | student SW₂ (1 NFE) | ratio | floor | modes | off-mode", 3))
                Student(c, $"toy-{c[0]}-boot", teacher: 1, student: 2, ratio: 3, floor: 4, modes: null, offMode: 6);
            // Progressive students beside their teacher's own sampler (a transposed table: one SW₂ row, one modes row per toy).
            foreach (var c in Table(lines, "| toy | teacher Heun 35 NFE | teacher Euler start | PD-8 |", 3))
            {
                string toy = c[0].Split(' ')[0];
                var reports = new[] { Measure(Teacher(toy), null) }.Concat(new[] { 8, 4, 2, 1 }.Select(k => Measure($"toy-{toy}-pd-k{k}", null))).ToArray();
                int[] columns = [1, 3, 4, 5, 6];
                for (int i = 0; i < reports.Length; i++)
                {
                    if (c[0].EndsWith("SW₂", StringComparison.Ordinal)) Near(c[columns[i]], reports[i].SlicedWasserstein, $"{c[0]}, column {columns[i]}");
                    else Assert.That(c[columns[i]], Is.EqualTo($"{Modes(reports[i])} / {OffMode(reports[i], c[columns[i]].Split(" / ")[1])}"), $"{c[0]}, column {columns[i]}");
                }
                if (c[0].EndsWith("SW₂", StringComparison.Ordinal)) Near(c[7], reports[0].Floor, $"{c[0]}: floor");
            }
        });
    }

    private static void Student(string[] c, string file, int teacher, int student, int ratio, int floor, int? modes, int offMode)
    {
        var t = Measure(Teacher(c[0]), 80);
        var s = Measure(file, null);
        Near(c[teacher], t.SlicedWasserstein, $"{file}: teacher SW₂");
        Near(c[student], s.SlicedWasserstein, $"{file}: student SW₂");
        Near(c[ratio], s.SlicedWasserstein / t.SlicedWasserstein, $"{file}: ratio");
        Near(c[floor], s.Floor, $"{file}: floor");
        if (s.Coverage == null) return;
        if (modes is { } m) Assert.That(c[m], Is.EqualTo($"{Modes(t)} / {Modes(s)}"), $"{file}: modes");
        var offs = c[offMode].Split(" / ");
        Assert.That(c[offMode], Is.EqualTo($"{OffMode(t, offs[0])} / {OffMode(s, offs[1])}"), $"{file}: off-mode");
    }

    private static void Check(string[] c, ToyReport r, int sw, int floor, int floorRatio, int? modes = null, int? offMode = null)
    {
        Near(c[sw], r.SlicedWasserstein, $"{c[0]}: SW₂");
        Near(c[floor], r.Floor, $"{c[0]}: floor");
        Near(c[floorRatio], r.FloorRatio, $"{c[0]}: ratio");
        if (modes is { } m) Assert.That(c[m], Is.EqualTo(Modes(r)), $"{c[0]}: modes");
        if (offMode is { } o && r.Coverage != null) Assert.That(c[o], Is.EqualTo(OffMode(r, c[o])), $"{c[0]}: off-mode");
    }

    // "0.0380 (3.24×)": an SW₂ and its ratio to the floor.
    private static void NearWithRatio(string cell, double sw, double ratio, string what)
    {
        var m = Regex.Match(cell, @"^([\d.]+) \(([\d.]+)×\)$");
        Assert.That(m.Success, $"{what}: '{cell}' is not 'SW₂ (ratio×)'");
        Near(m.Groups[1].Value, sw, what);
        Near(m.Groups[2].Value, ratio, what + ": ratio");
    }

    private static string Teacher(string toy) => $"toy-{toy}-teacher";

    private static string Modes(ToyReport r) => r.Coverage is { } c ? $"{c.Covered}/{c.Total}" : "—";

    // The off-mode percentage at the decimals of the printed one ("3.2 %"), or the printed dash where there are no modes.
    private static string OffMode(ToyReport r, string printed)
    {
        if (r.Coverage is not { } c) return "—";
        int decimals = printed.Contains('.') ? printed.IndexOf(' ') - printed.IndexOf('.') - 1 : 0;
        return (100 * c.OffModeFraction).ToString("F" + decimals, CultureInfo.InvariantCulture) + " %";
    }

    // The rows (cells without the outer bars, bold marks removed) of the table whose header starts with `header`.
    private static List<string[]> Table(string[] lines, string header, int atLeast)
    {
        int start = Array.FindIndex(lines, l => l.StartsWith(header, StringComparison.Ordinal));
        Assert.That(start, Is.GreaterThanOrEqualTo(0), $"models/README.md has the table '{header}'");
        var rows = lines.Skip(start + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim('|').Split('|').Select(c => c.Trim().Replace("**", "")).ToArray()).ToList();
        Assert.That(rows, Has.Count.GreaterThanOrEqualTo(atLeast), header);
        return rows;
    }

    private static (string Model, double? SigmaMax) Command(string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(words[..2], Is.EqualTo(new[] { "dk", "eval" }), command);
        string? model = null;
        double? sigmaMax = null;
        for (int i = 2; i + 1 < words.Length; i += 2)
        {
            if (words[i] == "--model") model = Path.GetFileNameWithoutExtension(words[i + 1]);
            else if (words[i] == "--sigma-max") sigmaMax = double.Parse(words[i + 1], CultureInfo.InvariantCulture);
            else Assert.Fail($"{command}: the test reads --model and --sigma-max only");
        }
        return (model ?? throw new AssertionException($"{command}: no --model"), sigmaMax);
    }

    // dk eval's report for models/<file>.safetensors with its own sampler, or from σ_max when given; each once per run.
    private static ToyReport Measure(string file, double? sigmaMax)
    {
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), file + ".safetensors"));
        var options = model.Options(null, null, sigmaMax, seed: 0, batchSize: 500, threshold: model.DefaultOptions.Threshold);
        string key = FormattableString.Invariant($"{file} {options.Kind} {options.Steps} {options.SigmaMax} {options.Sigmas?.Count}");
        if (Measured.TryGetValue(key, out var known)) return known;
        var toy = ToyDistribution.FromName(CheckpointKind.DataSpec(model.Metadata)!["toy:".Length..]);
        return Measured[key] = ToyEvaluation.Evaluate(model, toy, N, options).Report;
    }

    // Equal at the printed precision: within half a unit of its last digit (and a hair more for another CPU's rounding).
    private static void Near(string printed, double measured, string what)
    {
        string digits = printed.TrimEnd('×');
        int decimals = digits.Contains('.') ? digits.Length - digits.IndexOf('.') - 1 : 0;
        Assert.That(double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double value), $"{what}: '{printed}' is not a number");
        Assert.That(measured, Is.EqualTo(value).Within(0.51 * Math.Pow(10, -decimals)), $"{what}: the table says {printed}, measured {measured.ToString("G6", CultureInfo.InvariantCulture)}");
    }

    [GeneratedRegex(@"^\| `(?<name>toy-[a-z0-9-]+)` \| `(?<command>dk eval [^`]+)` \| (?<sampler>[a-z]+, \d+) \| (?<sw>[\d.]+) \| (?<floor>[\d.]+) \| (?<ratio>[\d.]+×) \| (?<vs>[\d.]+×|—) \| (?<modes>\d+/\d+|—) \|$")]
    private static partial Regex ReadmeRow();
}
