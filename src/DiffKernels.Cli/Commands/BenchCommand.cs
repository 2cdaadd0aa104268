using System.CommandLine;
using System.Globalization;
using DiffKernels.Bench;
using DiffKernels.Bench.Harness;
using DiffKernels.Gpu;
using Spectre.Console;

namespace DiffKernels.Cli.Commands;

/// <summary>
/// `dk bench [CASE...]`: times named kernels against a baseline measured in the same run (OpenBLAS or
/// a memory stream on the CPU, or PyTorch with --vs-torch) and prints a table or JSON lines.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cases = new Argument<string[]>("case") { Description = "Case or group names (default: all; see --list)", Arity = ArgumentArity.ZeroOrMore };
        var backend = new Option<string>("--backend") { Description = $"Backend to measure: {string.Join(", ", BenchSession.Backends)} (in-process baselines only beside cpu)", DefaultValueFactory = _ => "cpu" };
        var json = new Option<bool>("--json") { Description = "One JSON object per case on stdout instead of a table" };
        var vsTorch = new Option<bool>("--vs-torch") { Description = "Run bench/torch/bench_cases.py and compare with PyTorch instead" };
        var python = new Option<string?>("--python") { Description = $"Python interpreter that has torch (default: ${DiffKernels.Bench.Baselines.TorchBaseline.PythonVariable}, else python3, else /usr/bin/python3)" };
        var rounds = new Option<int?>("--rounds") { Description = $"With --vs-torch: rounds per case, each timing PyTorch and ours in turn; the ratio is the median over the rounds, ≥ 1 (default {BenchSettings.DefaultRounds})" };
        rounds.Check(n => n < 1 ? $"--rounds {n} must be ≥ 1" : null);
        var save = new Option<bool>("--save") { Description = "Write the report (JSON) and the ratio chart (PNG) under bench/results" };
        var outDir = new Option<string?>("--out") { Description = "Directory for --save (default: bench/results in the source tree)" };
        var force = OutputGuard.ForceOption("a report and chart --save would write over (one per backend and day)");
        var quick = new Option<bool>("--quick") { Description = "One warm-up and three timed runs per case (smoke test)" };
        var seconds = new Option<double?>("--seconds") { Description = "Minimum timed seconds per case, > 0 (default 1.5)" };
        seconds.Positive();
        var threads = new Option<int?>("--threads") { Description = "Threads for ours and the baselines, ≥ 1 (default: all cores)" };
        threads.Check(t => t < 1 ? $"--threads {t} must be ≥ 1" : null);
        var list = new Option<bool>("--list") { Description = "List the cases and exit" };
        var profile = new Option<bool>("--profile") { Description = "Time every kernel call of the cases instead (calls and ms per run, share of the run)" };
        var tiny = new Option<bool>("--tiny") { Description = "Each case at its tiny shape, one warm-up and one timed run: rehearses a GPU run on cpu-emulator (no speed figures)" };
        var launches = new Option<bool>("--launches") { Description = "Count the GPU kernel launches of one run of each case instead, per kernel (GPU backends)" };
        var cmd = new Command("bench", "Benchmark kernels against OpenBLAS / memory-stream baselines or PyTorch")
        {
            cases, backend, json, vsTorch, python, rounds, save, outDir, force, quick, seconds, threads, list, profile, tiny, launches,
        };
        cmd.SetAction(pr =>
        {
            var stdout = Console.Out;
            var stderr = Console.Error;
            if (pr.GetValue(list))
            {
                foreach (var c in BenchCatalog.All) stdout.WriteLine($"{c.Name,-22} {c.Unit.Text(),-8} {c.Description}");
                stdout.WriteLine();
                stdout.WriteLine("device-sized cases (run only when named):");
                foreach (var c in BenchCatalog.Device) stdout.WriteLine($"{c.Name,-26} {c.Unit.Text(),-8} {c.Description}");
                return 0;
            }
            bool isTiny = pr.GetValue(tiny);
            var options = isTiny ? TimingOptions.Once : pr.GetValue(quick) ? TimingOptions.Quick : new TimingOptions();
            if (pr.GetValue(seconds) is { } s) options = options with { MinSeconds = s };
            string root = BenchSession.RepoRoot(Directory.GetCurrentDirectory());
            var settings = new BenchSettings(pr.GetValue(cases) ?? [], pr.GetValue(backend)!, options, pr.GetValue(vsTorch), pr.GetValue(python), root,
                pr.GetValue(threads), pr.GetValue(rounds) ?? BenchSettings.DefaultRounds, isTiny);
            bool asJson = pr.GetValue(json);
            string command = "dk " + string.Join(' ', pr.Tokens.Select(t => t.Value));
            DeviceChoice opened;
            try
            {
                BenchCatalog.Select(settings.Cases, settings.Tiny);
                if (settings.Tiny && settings.VsTorch)
                    throw new ArgumentException("bench: --tiny does not apply with --vs-torch (the PyTorch scripts run the full shapes)");
                if (pr.GetValue(launches) && (settings.Backend == "cpu" || pr.GetValue(profile)))
                    throw new ArgumentException("bench: --launches counts GPU kernel launches: it needs --backend cuda, opencl or cpu-emulator, without --profile");
                if (settings.Threads < 1) throw new ArgumentException($"bench: --threads {settings.Threads}; need at least 1");
                if (pr.GetValue(rounds) != null && !settings.VsTorch)
                    throw new ArgumentException("bench: --rounds applies to --vs-torch (the in-process baselines already run interleaved with ours)");
                if (pr.GetValue(save))
                {
                    // Checked before the minutes of timing: a same-day report (often a committed one) is not written over silently.
                    string stem = BenchSession.SaveStem(settings, pr.GetValue(outDir) ?? Path.Combine(root, "bench", "results"),
                        DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                    OutputGuard.File(stem + ".json", "--save", pr.GetValue(force));
                    OutputGuard.File(stem + ".png", "--save", pr.GetValue(force));
                }
                opened = BenchSession.Open(settings.Backend);
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"dk bench: {Unprefixed(e.Message)}");
                return CliErrors.UserError;
            }
            using var on = opened;
            if (pr.GetValue(launches))
            {
                foreach (var c in BenchCatalog.Select(settings.Cases, settings.Tiny))
                {
                    stderr.WriteLine($"counting launches of {c.Name}: {c.Description}");
                    PrintLaunches(stdout, LaunchCount.Measure(c, on.Backend!));
                }
                return 0;
            }
            if (pr.GetValue(profile))
            {
                if (settings.Threads is { } t) DiffKernels.Backends.Cpu.CpuParallel.Workers = t;
                foreach (var c in BenchCatalog.Select(settings.Cases, settings.Tiny))
                {
                    stderr.WriteLine($"profiling {c.Name}: {c.Description}");
                    PrintProfile(stdout, KernelProfile.Measure(c, on.Device.Backend));
                }
                return 0;
            }
            try
            {
                var report = BenchSession.Run(settings, on.Device.Backend, command, stderr, r =>
                {
                    if (asJson) stdout.WriteLine(r.ToJsonLine());
                });
                if (!asJson) PrintTable(stdout, report.Results);
                if (pr.GetValue(save))
                {
                    var (file, chart) = BenchSession.Save(report, settings, pr.GetValue(outDir) ?? Path.Combine(root, "bench", "results"));
                    stderr.WriteLine($"saved {file}{(chart != null ? $" and {chart}" : "")}");
                }
                return 0;
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"dk bench: {Unprefixed(e.Message)}");
                return CliErrors.UserError;
            }
        });
        return cmd;
    }

    private static void PrintTable(TextWriter output, IReadOnlyList<BenchResult> results)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        // Redirected output reports a narrow default width; the table needs room for case and baseline names.
        console.Profile.Width = Math.Max(console.Profile.Width, 150);
        bool rounds = results.Any(r => r.Rounds != null);
        var table = new Table().AddColumns("case", "unit", "ours", "± %", "baseline", "value", "± %", "ratio");
        if (rounds) table.AddColumns("rounds: min–max", "target");
        foreach (var i in new[] { 2, 3, 5, 6, 7 }) table.Columns[i].RightAligned();
        foreach (var r in results)
        {
            string ratio = r.Ratio is { } x ? $"[{(x >= (r.Target ?? 1) ? "green" : "red")}]{Times(x)}[/]" : "";
            var row = new List<string>
            {
                Markup.Escape(r.Case), Markup.Escape(r.Unit), Num(r.Ours), Num(r.OursSpreadPct),
                Markup.Escape(r.BaselineName ?? "—"), r.Baseline is { } b ? Num(b) : "", r.BaselineSpreadPct is { } sp ? Num(sp) : "", ratio,
            };
            if (rounds)
            {
                row.Add(r.Rounds is { } n ? $"{n}: {Times(r.RatioMin!.Value)}–{Times(r.RatioMax!.Value)}" : "");
                row.Add(r.Target is { } t ? Markup.Escape($"≥ {Times(t)}: {r.Verdict}") : "");
            }
            table.AddRow(row.ToArray());
        }
        console.Write(table);
        foreach (var (note, cases) in results.Where(r => r.Baseline == null && r.Note != null).GroupBy(r => r.Note!).Select(g => (g.Key, g.Select(r => r.Case))))
            output.WriteLine($"no baseline for {string.Join(", ", cases)}: {note}");
        foreach (var r in results.Where(r => r.LaunchesPerRun != null))
            output.WriteLine($"{r.Case}: {Num(r.LaunchesPerRun!.Value)} kernel launches per run");
        foreach (var r in results.Where(r => (r.Unit == BenchUnit.MsPerStep.Text() || r.Unit == BenchUnit.ImagesPerSecond.Text()) && r.PeakRssMb != null))
            output.WriteLine($"{r.Case}: peak resident memory {Num(r.PeakRssMb!.Value)} MB{(r.BaselinePeakRssMb is { } m ? $" ({r.BaselineName}: {Num(m)} MB)" : "")}");
    }

    private static void PrintLaunches(TextWriter output, LaunchCount count)
    {
        output.WriteLine($"{count.Case}: {Num(count.Total)} kernel launches per run, {Num(count.HostWaits)} host waits");
        foreach (var (kernel, perRun) in count.Kernels) output.WriteLine($"  {kernel,-28} {Num(perRun),8}  {100 * perRun / count.Total,5:0.0} %");
    }

    private static string Times(double ratio) => ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";

    private static void PrintProfile(TextWriter output, KernelProfile p)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = Math.Max(console.Profile.Width, 110);
        var table = new Table { Title = new TableTitle(Markup.Escape($"{p.Case}: {Num(p.MsPerRun)} ms per run")) }
            .AddColumns("kernel", "calls/run", "ms/run", "share");
        foreach (var i in new[] { 1, 2, 3 }) table.Columns[i].RightAligned();
        string Share(double ms) => (100 * ms / p.MsPerRun).ToString("0.0", CultureInfo.InvariantCulture) + " %";
        foreach (var k in p.Kernels.Where(k => k.MsPerRun >= 0.005 * p.MsPerRun))
            table.AddRow(Markup.Escape(k.Kernel), Num(k.CallsPerRun), Num(k.MsPerRun), Share(k.MsPerRun));
        var rest = p.Kernels.Where(k => k.MsPerRun < 0.005 * p.MsPerRun).ToList();
        if (rest.Count > 0)
            table.AddRow($"{rest.Count} other kernels (< 0.5 % each)", Num(rest.Sum(k => k.CallsPerRun)), Num(rest.Sum(k => k.MsPerRun)), Share(rest.Sum(k => k.MsPerRun)));
        table.AddRow("outside kernels (autograd, allocation, dispatch)", "", Num(p.OutsideMs), Share(p.OutsideMs));
        console.Write(table);
    }

    // The harness prefixes its messages with "bench: " for library callers; the command's own prefix already says it.
    private static string Unprefixed(string message) => message.StartsWith("bench: ", StringComparison.Ordinal) ? message["bench: ".Length..] : message;

    private static string Num(double v) => v.ToString(v >= 100 ? "0" : v >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
}
