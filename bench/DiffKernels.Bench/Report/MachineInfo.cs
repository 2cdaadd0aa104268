using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using DiffKernels.Backends.Cpu;

namespace DiffKernels.Bench.Report;

/// <summary>Where a benchmark ran: processor, cores, SIMD, software and load.</summary>
/// <param name="Cpu">Processor model.</param>
/// <param name="Cores">Logical processors.</param>
/// <param name="Simd">SIMD support as the CPU backend sees it.</param>
/// <param name="GemmKernel">The SGEMM micro-kernel in use.</param>
/// <param name="Os">Operating system.</param>
/// <param name="Dotnet">.NET runtime version.</param>
public sealed record MachineInfo(string Cpu, int Cores, string Simd, string GemmKernel, string Os, string Dotnet)
{
    /// <summary>This machine.</summary>
    public static MachineInfo Current() => new(CpuFeatures.Model, Environment.ProcessorCount, CpuFeatures.Simd, CpuFeatures.GemmKernel,
        $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}", Environment.Version.ToString());

    /// <summary>True when the engine assembly was compiled without JIT optimisation (a Debug build).</summary>
    public static bool IsDebugBuild =>
        typeof(CpuBackend).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .OfType<DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled);

    /// <summary>The 1-, 5- and 15-minute load averages, or null where the OS does not publish them.</summary>
    public static double[]? LoadAverage()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>Restarts the process's resident-memory high-water mark (Linux; elsewhere a no-op).</summary>
    public static void ResetPeakRss()
    {
        try
        {
            if (OperatingSystem.IsLinux()) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not permitted here: the mark then covers the whole process lifetime.
        }
    }

    /// <summary>The process's resident-memory high-water mark in MB, or null where the OS does not report it.</summary>
    public static double? PeakRssMb()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return Math.Round(double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024, 1);
        return null;
    }

    /// <summary>The short commit hash of the working tree at <paramref name="dir"/> (with "+dirty" when modified), or "unknown".</summary>
    public static string GitCommit(string dir)
    {
        string? head = Git(dir, "rev-parse --short HEAD");
        if (head == null) return "unknown";
        string? status = Git(dir, "status --porcelain --untracked-files=no");
        return string.IsNullOrWhiteSpace(status) ? head : head + "+dirty";
    }

    private static string? Git(string dir, string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            if (p == null) return null;
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
