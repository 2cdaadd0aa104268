using ILGPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace DiffKernels.Gpu;

/// <summary>What one GPU reports about itself.</summary>
/// <param name="Kind">CUDA or OpenCL.</param>
/// <param name="Name">Device name.</param>
/// <param name="MemoryBytes">Global memory.</param>
/// <param name="WarpSize">Threads per warp (wavefront).</param>
/// <param name="MaxGroupSize">Largest thread group.</param>
/// <param name="SharedMemoryPerGroup">Shared memory available to one group, in bytes.</param>
/// <param name="Multiprocessors">Streaming multiprocessors (compute units).</param>
/// <param name="Capability">Compute capability (CUDA) or OpenCL version.</param>
public sealed record GpuDeviceInfo(GpuKind Kind, string Name, long MemoryBytes, int WarpSize, int MaxGroupSize,
    int SharedMemoryPerGroup, int Multiprocessors, string Capability);

/// <summary>Enumerates the GPUs ILGPU can reach (CUDA devices and OpenCL GPUs); the CPU emulator is not listed.</summary>
public static class GpuDevices
{
    /// <summary>Every CUDA device, then every OpenCL GPU.</summary>
    public static IReadOnlyList<GpuDeviceInfo> List()
    {
        using var context = Context.Create(b => b.Cuda().OpenCL());
        var list = new List<GpuDeviceInfo>();
        foreach (var d in context.Devices.OfType<CudaDevice>())
            list.Add(new GpuDeviceInfo(GpuKind.Cuda, d.Name, d.MemorySize, d.WarpSize, d.MaxNumThreadsPerGroup,
                d.MaxSharedMemoryPerGroup, d.NumMultiprocessors, d.Architecture?.ToString() ?? "unknown architecture"));
        foreach (var d in context.Devices.OfType<CLDevice>().Where(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU))
            list.Add(new GpuDeviceInfo(GpuKind.OpenCL, d.Name, d.MemorySize, d.WarpSize, d.MaxNumThreadsPerGroup,
                d.MaxSharedMemoryPerGroup, d.NumMultiprocessors, d.DeviceVersion.ToString()));
        return list;
    }
}
