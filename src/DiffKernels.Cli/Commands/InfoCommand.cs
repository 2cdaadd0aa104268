using System.CommandLine;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

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
            Console.WriteLine($"cpu backend: {Environment.ProcessorCount} cores");
            Console.WriteLine($"  Vector<float> width: {System.Numerics.Vector<float>.Count} lanes");
            Console.WriteLine($"  AVX2: {Avx2.IsSupported}  FMA: {Fma.IsSupported}  AVX-512F: {Avx512F.IsSupported}");
            return 0;
        });
        return cmd;
    }
}
