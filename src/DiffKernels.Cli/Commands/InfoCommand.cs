using System.CommandLine;
using System.Runtime.InteropServices;
using DiffKernels.Backends.Cpu;
using DiffKernels.Gpu;

namespace DiffKernels.Cli.Commands;

/// <summary>`dk info`: backends, SIMD support, core count and the GPUs ILGPU can reach with their limits.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Show the backends, SIMD support, core count and GPUs");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"DiffKernels on .NET {Environment.Version}, {RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}");
            Console.WriteLine("backends:");
            Console.WriteLine($"  cpu    {CpuFeatures.Model}, {Environment.ProcessorCount} cores (kernels use {CpuParallel.Workers} workers)");
            Console.WriteLine($"         SIMD: {CpuFeatures.Simd}");
            Console.WriteLine($"         SGEMM micro-kernel: {CpuFeatures.GemmKernel}");
            PrintGpus();
            return 0;
        });
        return cmd;
    }

    private static void PrintGpus()
    {
        var gpus = GpuDevices.List();
        if (!gpus.Any(g => g.Kind == GpuKind.Cuda)) Console.WriteLine("  cuda   no CUDA device");
        foreach (var g in gpus)
        {
            Console.WriteLine($"  {(g.Kind == GpuKind.Cuda ? "cuda  " : "opencl")} {g.Name} ({g.Capability}), {g.MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB, {g.Multiprocessors} multiprocessors");
            Console.WriteLine($"         warp {g.WarpSize}, max group {g.MaxGroupSize} threads, {g.SharedMemoryPerGroup / 1024} KB shared memory per group");
        }
        Console.WriteLine("  cpu-emulator  ILGPU's CPU accelerator (runs the GPU kernels for tests: dk check-ops --backend cpu-emulator)");
    }
}
