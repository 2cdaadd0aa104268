using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;
using DiffKernels.Bench.Baselines;
using DiffKernels.Bench.Harness;
using DiffKernels.Bench.Report;
using DiffKernels.Gpu;

namespace DiffKernels.Bench;

/// <summary>What <c>dk bench</c> was asked to do.</summary>
/// <param name="Cases">Case or group names (empty: all).</param>
/// <param name="Backend">Backend name (one of <see cref="BenchSession.Backends"/>).</param>
/// <param name="Options">Warm-up and repetition settings.</param>
/// <param name="VsTorch">Compare with the PyTorch script instead of the in-process baseline.</param>
/// <param name="Python">Interpreter for the script (null: search).</param>
/// <param name="RepoRoot">The source tree (holds bench/torch and bench/results).</param>
/// <param name="Threads">Threads for ours and every baseline (null: all cores).</param>
/// <param name="Rounds">With <paramref name="VsTorch"/>: rounds per case, each timing PyTorch and ours once (see <see cref="RoundSummary"/>).</param>
/// <param name="Tiny">Run each case at its tiny shape (<see cref="BenchCase.Tiny"/>).</param>
public sealed record BenchSettings(IReadOnlyCollection<string> Cases, string Backend, TimingOptions Options, bool VsTorch, string? Python, string RepoRoot,
    int? Threads = null, int Rounds = BenchSettings.DefaultRounds, bool Tiny = false)
{
    /// <summary>Rounds per case against PyTorch unless --rounds says otherwise: the fewest with a median that one slow round cannot move.</summary>
    public const int DefaultRounds = 3;
}

/// <summary>A whole benchmark run: cases, baselines (in-process or PyTorch), and the report.</summary>
public static class BenchSession
{
    /// <summary>The backend names --backend accepts.</summary>
    public static IReadOnlyList<string> Backends { get; } = ["cpu", "cuda", "opencl", "cpu-emulator"];

    /// <summary>
    /// Opens the backend called <paramref name="name"/> (dispose it when the run ends); an unknown name, or a GPU
    /// kind this machine does not have, throws <see cref="ArgumentException"/> with a one-line message.
    /// </summary>
    public static DeviceChoice Open(string name)
    {
        if (!Backends.Contains(name))
            throw new ArgumentException($"bench: unknown backend '{name}' (available: {string.Join(", ", Backends)})");
        try
        {
            return DeviceChoice.Open(name);
        }
        catch (GpuUnavailableException e)
        {
            throw new ArgumentException($"bench: --backend {name}: {e.Message} found (dk info lists the backends)");
        }
        catch (InvalidInputException e)
        {
            throw new ArgumentException($"bench: --backend {name}: {e.Message}");
        }
    }

    /// <summary>The nearest directory at or above <paramref name="start"/> holding DiffKernels.sln, else <paramref name="start"/>.</summary>
    public static string RepoRoot(string start)
    {
        for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DiffKernels.sln"))) return d.FullName;
        return start;
    }

    /// <summary>The PyTorch script of the cases.</summary>
    public static string TorchScript(string repoRoot) => Path.Combine(repoRoot, "bench", "torch", "bench_cases.py");

    /// <summary>
    /// Runs the selected cases on <paramref name="backend"/> (opened by <see cref="Open"/> from <c>s.Backend</c>),
    /// calling <paramref name="onResult"/> as each finishes; progress and notes go to <paramref name="log"/>.
    /// Returns the report (not yet saved). The in-process baselines are CPU code, so they run only beside the CPU backend.
    /// On a GPU backend whose matrix products are not FP32 (<see cref="GpuBackend.MatmulPrecision"/>, e.g. from
    /// DK_GPU_MATMUL) every case name ends in the precision: "-tf32" or "-3xtf32".
    /// </summary>
    public static BenchReport Run(BenchSettings s, IBackend backend, string command, TextWriter log, Action<BenchResult> onResult)
    {
        var cases = BenchCatalog.Select(s.Cases, s.Tiny);
        bool cpu = backend is CpuBackend;
        int threads = s.Threads ?? Environment.ProcessorCount;
        CpuParallel.Workers = threads;
        BaselineThreads.Count = threads;
        string date = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var loadBefore = MachineInfo.LoadAverage();
        if (MachineInfo.IsDebugBuild)
            log.WriteLine("warning: the engine was built without optimisation (Debug); build with -c Release for real timings");
        string? torchName = null, python = null;
        if (s.VsTorch)
        {
            python = TorchBaseline.RequirePython(s.Python, Environment.GetEnvironmentVariable);
            log.WriteLine($"running the PyTorch script with {python}: {s.Rounds} round{(s.Rounds == 1 ? "" : "s")} per case, PyTorch and ours in turn");
        }
        else if (cpu)
        {
            log.WriteLine($"baseline: {OpenBlas.Status}");
        }

        var results = new List<BenchResult>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        foreach (var c in cases)
        {
            // Which case of how many, and the time left at the pace so far: a full run takes minutes.
            string eta = results.Count == 0 ? "" : $", about {TimeSpan.FromSeconds(started.Elapsed.TotalSeconds / results.Count * (cases.Count - results.Count)):hh\\:mm\\:ss} left";
            log.WriteLine($"running {c.Name} ({results.Count + 1}/{cases.Count}{eta}): {c.Description}");
            BenchResult r;
            if (python != null)
            {
                r = AgainstTorch(c, s, backend, python, threads, log);
                torchName ??= r.Ratio != null ? r.BaselineName : null;
            }
            else
            {
                r = BenchRunner.Run(c, backend, s.Options, withBaseline: cpu);
                if (!cpu) r = r with { Note = $"the in-process baselines run on the CPU; none beside {backend.Name}" };
            }
            // Products at another precision are other results: "-tf32" names them as PyTorch's TF32 rows.
            if (backend is GpuBackend { MatmulPrecision: not MatmulPrecision.Fp32 } gpu)
                r = r with { Case = $"{r.Case}-{MatmulPrecisions.Name(gpu.MatmulPrecision)}" };
            results.Add(r);
            onResult(r);
        }
        return new BenchReport(date, command, MachineInfo.GitCommit(s.RepoRoot), MachineInfo.Current(), loadBefore, MachineInfo.LoadAverage(),
            OpenBlas.Status, torchName, results);
    }

    /// <summary>
    /// One case against PyTorch in <c>s.Rounds</c> rounds. PyTorch runs in its own process, so it cannot interleave
    /// with ours run by run as the in-process baselines do; each round instead times both sides seconds apart, PyTorch
    /// first in even rounds and ours first in odd ones, so a host that speeds up or slows down over a case does not
    /// favour one side, and the summary rests on the median of the rounds' ratios.
    /// </summary>
    private static BenchResult AgainstTorch(BenchCase c, BenchSettings s, IBackend backend, string python, int threads, TextWriter log)
    {
        BenchResult? Torch() => TorchBaseline.Run(python, TorchScript(s.RepoRoot), [c.Name], s.Options, threads, log).GetValueOrDefault(c.Name);
        var rounds = new List<BenchResult>();
        for (int round = 0; round < s.Rounds; round++)
        {
            bool torchFirst = round % 2 == 0;
            var theirs = torchFirst ? Torch() : null;
            // The first round asks PyTorch first, so a case its script lacks is timed once, on our side only.
            if (round == 0 && theirs == null)
                return BenchRunner.Run(c, backend, s.Options, withBaseline: false) with { Note = "no PyTorch version of this case" };
            var ours = BenchRunner.Run(c, backend, s.Options, withBaseline: false);
            theirs ??= Torch() ?? throw new InvalidOperationException($"bench: the PyTorch script gave no result for {c.Name} in round {round + 1}");
            var compared = ours.Against(theirs, c.Unit);
            log.WriteLine(FormattableString.Invariant(
                $"  round {round + 1}/{s.Rounds}: ours {ours.Ours} {c.Unit.Text()}, {theirs.Backend} {theirs.Ours} {c.Unit.Text()}, ratio {compared.Ratio:0.00}×"));
            rounds.Add(compared);
        }
        return RoundSummary.Combine(rounds, c.TorchTarget);
    }

    /// <summary>Saves the report as {backend}[-vs-torch]-{date}.json with its chart beside it; returns both paths.</summary>
    public static (string Json, string? Chart) Save(BenchReport report, BenchSettings s, string directory)
    {
        string stem = SaveStem(s, directory, report.Date[..10]);
        report.Save(stem + ".json");
        string title = $"DiffKernels {s.Backend} vs {(s.VsTorch ? report.Torch ?? "PyTorch" : "baselines")} — {report.Machine.Cpu}, {report.Machine.Cores} cores, {report.Date[..10]}";
        return (stem + ".json", RatioChart.Save(report.Results, title, stem + ".png") ? stem + ".png" : null);
    }

    /// <summary>The path, without extension, of the report and chart <see cref="Save"/> writes for a run on <paramref name="day"/> (yyyy-MM-dd, UTC).</summary>
    public static string SaveStem(BenchSettings s, string directory, string day) =>
        Path.Combine(directory, $"{s.Backend}{(s.VsTorch ? "-vs-torch" : "")}-{day}");
}
