using DiffKernels.Gpu;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// One GPU backend on ILGPU's CPU emulator for the whole test run: kernels compile once per
/// backend, so sharing it keeps the GPU tests to the cost of the launches themselves.
/// </summary>
public static class Emulator
{
    // FP32 whatever DK_GPU_MATMUL says: the op matrix's tolerances are FP32's, and its tensor-core cases set their own precision.
    private static readonly Lazy<GpuBackend> Shared = new(() => GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Fp32));

    /// <summary>The shared emulator backend.</summary>
    public static GpuBackend Backend => Shared.Value;
}
