using Device = DiffKernels.Tensors.Device;

namespace DiffKernels.Gpu;

/// <summary>
/// A tensor device picked by name ("cpu", "auto", "cuda", "opencl" or "cpu-emulator"), holding the GPU backend
/// it opened, if any: every model, optimiser and tensor of a run goes on <see cref="Device"/>, and disposing the
/// choice (after them) releases the accelerator. "auto" is the first CUDA device when there is one, else the CPU.
/// </summary>
public sealed class DeviceChoice : IDisposable
{
    private readonly GpuBackend? _gpu;

    private DeviceChoice(Device device, GpuBackend? gpu)
    {
        Device = device;
        _gpu = gpu;
    }

    /// <summary>The names <see cref="Open"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["cpu", "auto", "cuda", "opencl", "cpu-emulator"];

    /// <summary>
    /// Opens the device called <paramref name="name"/>. Throws <see cref="ArgumentException"/> for an unknown name
    /// and <see cref="GpuUnavailableException"/> when the named kind of accelerator is not present.
    /// </summary>
    public static DeviceChoice Open(string name)
    {
        switch (name)
        {
            case "cpu":
                return new DeviceChoice(Device.Cpu, null);
            case "auto":
                try
                {
                    return Gpu(GpuKind.Cuda);
                }
                catch (GpuUnavailableException)
                {
                    return new DeviceChoice(Device.Cpu, null);
                }
            case "cuda":
                return Gpu(GpuKind.Cuda);
            case "opencl":
                return Gpu(GpuKind.OpenCL);
            case "cpu-emulator":
                return Gpu(GpuKind.CpuEmulator);
            default:
                throw new ArgumentException($"unknown device '{name}'; expected one of {string.Join(", ", Names)}", nameof(name));
        }
    }

    private static DeviceChoice Gpu(GpuKind kind)
    {
        var gpu = GpuBackend.Create(kind);
        return new DeviceChoice(gpu.Device, gpu);
    }

    /// <summary>Where the run's tensors live.</summary>
    public Device Device { get; }

    /// <summary>The GPU backend behind <see cref="Device"/>, or null on the CPU.</summary>
    public GpuBackend? Backend => _gpu;

    /// <summary>Releases the accelerator (nothing on the CPU); tensors on it must be released first.</summary>
    public void Dispose() => _gpu?.Dispose();

    /// <inheritdoc/>
    public override string ToString() => _gpu?.ToString() ?? Device.Name;
}
