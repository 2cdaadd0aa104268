using DiffKernels.Gpu;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// One GPU backend on ILGPU's CPU emulator for the whole test run: kernels compile once per
/// backend, so sharing it keeps the GPU tests to the cost of the launches themselves.
/// </summary>
public static class Emulator
{
    private static readonly Lazy<GpuBackend> Shared = new(() => GpuBackend.Create(GpuKind.CpuEmulator));

    /// <summary>The shared emulator backend.</summary>
    public static GpuBackend Backend => Shared.Value;
}
