using System.Diagnostics;
using System.Globalization;
using DiffKernels.Bench.Harness;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// Runs bench/torch/bench_cases.py, which times the same cases with PyTorch on the CPU and prints
/// one JSON line per case in <see cref="BenchResult"/>'s format (its figure under "ours", the
/// implementation under "backend"), and reads those lines back.
/// </summary>
public static class TorchBaseline
{
    /// <summary>Environment variable naming the interpreter to use when --python is not given.</summary>
    public const string PythonVariable = "DK_PYTHON";

    /// <summary>
    /// Interpreters tried, in order, when neither --python nor <see cref="PythonVariable"/> names one: the first
    /// python3 on PATH (a virtual environment's), then the system's, where Debian's python3-torch installs.
    /// </summary>
    public static readonly string[] Interpreters = ["python3", "/usr/bin/python3"];

    /// <summary>
    /// The interpreters to try: <paramref name="preferred"/> alone when given, else the one <see cref="PythonVariable"/>
    /// names (read through <paramref name="environment"/>), else <see cref="Interpreters"/>.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string? preferred, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(preferred)) return [preferred];
        return environment(PythonVariable) is { Length: > 0 } named ? [named] : Interpreters;
    }

    /// <summary>The first interpreter of <see cref="Candidates"/> that can import torch, or null.</summary>
    public static string? FindPython(string? preferred) => Find(Candidates(preferred, Environment.GetEnvironmentVariable), out _);

    /// <summary>
    /// The first interpreter of <see cref="Candidates"/> that can import torch; when none can, throws an
    /// <see cref="ArgumentException"/> whose one line names each interpreter tried, why it failed and how to name another.
    /// </summary>
    public static string RequirePython(string? preferred, Func<string, string?> environment)
    {
        var candidates = Candidates(preferred, environment);
        return Find(candidates, out var failures)
            ?? throw new ArgumentException($"bench: no Python that can import torch (tried {string.Join("; ", failures)}); " +
                $"name one with --python or {PythonVariable} (on Debian: apt-get install python3-torch, then /usr/bin/python3)");
    }

    private static string? Find(IReadOnlyList<string> candidates, out List<string> failures)
    {
        failures = [];
        foreach (var py in candidates)
        {
            int code = TryRun(py, ["-c", "import torch"], out _, out string stderr);
            if (code == 0) return py;
            // The last line of a failed import is its error ("ModuleNotFoundError: No module named 'torch'").
            string why = code == -1 ? "not found" : stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {code}";
            failures.Add($"{py}: {why}");
        }
        return null;
    }

    /// <summary>
    /// Runs the script for <paramref name="cases"/> on <paramref name="threads"/> threads and returns its results by case name; cases the
    /// script does not implement are absent. Lines on its stderr go to <paramref name="log"/>.
    /// </summary>
    public static Dictionary<string, BenchResult> Run(string python, string script, IEnumerable<string> cases, TimingOptions options, int threads, TextWriter log)
    {
        var args = new List<string>
        {
            script, "--cases", string.Join(",", cases), "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--min-runs", options.MinRuns.ToString(CultureInfo.InvariantCulture),
            "--max-runs", options.MaxRuns.ToString(CultureInfo.InvariantCulture),
            "--min-seconds", options.MinSeconds.ToString(CultureInfo.InvariantCulture),
            "--warmup-seconds", options.WarmupSeconds.ToString(CultureInfo.InvariantCulture),
        };
        int code = TryRun(python, args, out string stdout, out string stderr);
        foreach (var line in stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)) log.WriteLine($"torch: {line}");
        if (code != 0) throw new InvalidOperationException($"bench: {python} {script} exited with code {code}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{'))
            .Select(BenchResult.FromJsonLine)
            .ToDictionary(r => r.Case);
    }

    private static int TryRun(string exe, IEnumerable<string> args, out string stdout, out string stderr)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            stdout = p.StandardOutput.ReadToEnd();
            stderr = err.Result;
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            (stdout, stderr) = ("", e.Message);
            return -1;
        }
    }
}
