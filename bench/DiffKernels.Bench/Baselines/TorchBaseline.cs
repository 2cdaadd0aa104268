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
    /// <summary>Interpreters tried, in order, when none is given: Debian's python3-torch lives under /usr/bin.</summary>
    public static readonly string[] Interpreters = ["/usr/bin/python3.11", "/usr/bin/python3", "python3"];

    /// <summary>The first interpreter that can import torch, or null.</summary>
    public static string? FindPython(string? preferred)
    {
        foreach (var py in preferred != null ? [preferred] : Interpreters)
            if (TryRun(py, ["-c", "import torch"], out _, out _) == 0) return py;
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
