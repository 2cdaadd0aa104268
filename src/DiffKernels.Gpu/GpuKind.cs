namespace DiffKernels.Gpu;

/// <summary>Which ILGPU accelerator a <see cref="GpuBackend"/> runs on.</summary>
public enum GpuKind
{
    /// <summary>The first CUDA device; else the first OpenCL GPU; else the CPU emulator.</summary>
    Auto,

    /// <summary>The first CUDA device (fails when there is none).</summary>
    Cuda,

    /// <summary>The first OpenCL GPU (fails when there is none).</summary>
    OpenCL,

    /// <summary>
    /// ILGPU's CPU accelerator: every simulated GPU thread is an OS thread (4 per warp, 16 per group),
    /// so it runs the real kernels, barriers and shuffles included, but slowly. For tests on small shapes.
    /// </summary>
    CpuEmulator,
}
