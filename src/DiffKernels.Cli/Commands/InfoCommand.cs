using System.CommandLine;
using System.Runtime.InteropServices;
using DiffKernels.Backends.Cpu;

namespace DiffKernels.Cli.Commands;

/// <summary>`dk info`: backends, SIMD support and core count.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Show the backends, SIMD support and core count");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"DiffKernels on .NET {Environment.Version}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
            Console.WriteLine("backends:");
            Console.WriteLine($"  cpu    {CpuFeatures.Model}, {Environment.ProcessorCount} cores (kernels use {CpuParallel.Workers} workers)");
            Console.WriteLine($"         SIMD: {CpuFeatures.Simd}");
            Console.WriteLine($"         SGEMM micro-kernel: {CpuFeatures.GemmKernel}");
            Console.WriteLine("  cuda   not built into this version (the GPU backend is a later milestone)");
            return 0;
        });
        return cmd;
    }
}
