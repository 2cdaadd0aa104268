using System.Numerics;
using System.Runtime.Intrinsics.X86;
using DiffKernels.Backends.Cpu.Gemm;

namespace DiffKernels.Backends.Cpu;

/// <summary>What the CPU backend found on this machine and which kernel paths it uses.</summary>
public static class CpuFeatures
{
    /// <summary>The processor's model name where the OS reports it, else the architecture.</summary>
    public static string Model
    {
        get
        {
            const string cpuinfo = "/proc/cpuinfo";
            if (File.Exists(cpuinfo))
                foreach (var line in File.ReadLines(cpuinfo))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
            return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>Instruction-set support relevant to the kernels.</summary>
    public static string Simd =>
        $"Vector<float> {Vector<float>.Count} lanes, AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512F {Avx512F.IsSupported}";

    /// <summary>The SGEMM micro-kernel in use.</summary>
    public static string GemmKernel => Sgemm.Path switch
    {
        GemmPath.Avx512 => $"AVX-512F {Sgemm.MR}x{Sgemm.NR}",
        GemmPath.Avx2 => $"AVX2+FMA {Sgemm.MR}x{Sgemm.NR}",
        _ => $"portable Vector<float> {Sgemm.MR}x{Sgemm.NR}",
    };
}
