using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffKernels.Diffusion.Evaluation;
using DiffKernels.Diffusion.Training;

namespace DiffKernels.Diffusion.Distillation.Boot;

/// <summary>
/// BOOT's two diagnostic plots, each a PNG with its numbers in a JSON file beside it:
/// <see cref="LossFile"/>, the bootstrapping loss per bin of grid pairs (x: the bin's geometric-mean σ, log scale) with one
/// line per tenth of the training so far (dark blue early, orange late), read from the run's log; and
/// <see cref="GapFile"/>, the mean squared gap between the EMA student's y(σ) and the teacher's ODE trajectory from the
/// same noises, per grid level (x: σ, log scale).
/// </summary>
public static class BootPlots
{
    /// <summary>The loss-per-σ-bin plot (and its .json).</summary>
    public const string LossFile = "boot-loss-by-sigma.png";

    /// <summary>The trajectory-gap plot (and its .json).</summary>
    public const string GapFile = "boot-trajectory-gap.png";

    /// <summary>Seed of the noises the gap is measured on.</summary>
    public const ulong GapSeed = 0xB007;

    private const int Phases = 10;

    /// <summary>Writes both plots into <paramref name="dir"/>, the gap measured on <paramref name="gapSamples"/> noises (default: 256 points or 16 images).</summary>
    public static void Write(BootDistiller run, string dir, int? gapSamples = null)
    {
        WriteLoss(run, dir);
        int n = gapSamples ?? (run.Student.SampleShape.Rank == 1 ? 256 : 16);
        var gap = run.TrajectoryGap(n, GapSeed);
        var levels = run.Levels.ToArray();
        LinePlot.Save(Path.Combine(dir, GapFile), [new LineSeries(levels, gap)], logX: true);
        var json = new JsonObject
        {
            ["step"] = run.Step,
            ["samples"] = n,
            ["seed"] = GapSeed,
            ["sigma"] = new JsonArray(levels.Select(v => (JsonNode)v).ToArray()),
            ["mean_squared_gap"] = new JsonArray(gap.Select(v => (JsonNode)v).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, Path.ChangeExtension(GapFile, ".json")), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The geometric-mean σ of each loss bin: over the pairs' midpoints √(σt·σs) of the bin.</summary>
    public static double[] BinSigmas(BootDistiller run)
    {
        var levels = run.Levels;
        var sums = new double[run.Bins];
        var counts = new int[run.Bins];
        for (int k = 0; k + 1 < levels.Count; k++)
        {
            int bin = run.BinOf(k);
            sums[bin] += 0.5 * (Math.Log(levels[k]) + Math.Log(levels[k + 1]));
            counts[bin]++;
        }
        return sums.Select((s, i) => Math.Exp(s / counts[i])).ToArray();
    }

    private static void WriteLoss(BootDistiller run, string dir)
    {
        string log = Path.Combine(dir, RunLoop.LogFile);
        var rows = new List<(long Step, double[] Bins)>();
        if (File.Exists(log))
        {
            foreach (var line in File.ReadLines(log))
            {
                if (JsonNode.Parse(line) is not JsonObject o || o["step"] is null || o["loss_bin0"] is null) continue;
                var bins = Enumerable.Range(0, run.Bins).Select(b => o[$"loss_bin{b}"] is JsonValue v && v.TryGetValue<double>(out var d) ? d : double.NaN).ToArray();
                rows.Add((o["step"]!.GetValue<long>(), bins));
            }
        }
        var sigmas = BinSigmas(run);
        var phases = new List<(long From, long To, double[] Mean)>();
        int per = Math.Max(1, (rows.Count + Phases - 1) / Phases);
        for (int start = 0; start < rows.Count; start += per)
        {
            var chunk = rows.Skip(start).Take(per).ToList();
            var mean = Enumerable.Range(0, run.Bins).Select(b =>
            {
                var finite = chunk.Select(r => r.Bins[b]).Where(double.IsFinite).ToList();
                return finite.Count > 0 ? finite.Average() : double.NaN;
            }).ToArray();
            phases.Add((chunk[0].Step, chunk[^1].Step, mean));
        }
        LinePlot.Save(Path.Combine(dir, LossFile), phases.Select(p => new LineSeries(sigmas, p.Mean)).ToList(), logX: true);
        var json = new JsonObject
        {
            ["bin_sigma"] = new JsonArray(sigmas.Select(v => (JsonNode)v).ToArray()),
            ["phases"] = new JsonArray(phases.Select(p => (JsonNode)new JsonObject
            {
                ["from_step"] = p.From,
                ["to_step"] = p.To,
                ["loss"] = new JsonArray(p.Mean.Select(v => double.IsFinite(v) ? (JsonNode)v : null).ToArray()),
            }).ToArray()),
        };
        File.WriteAllText(Path.Combine(dir, Path.ChangeExtension(LossFile, ".json")), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
