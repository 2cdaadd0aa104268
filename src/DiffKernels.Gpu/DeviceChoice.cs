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
    /// Opens the device called <paramref name="name"/>. Throws <see cref="InvalidInputException"/> for an unknown name
    /// and <see cref="GpuUnavailableException"/> (one) when the named kind of accelerator is not present.
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
                throw new InvalidInputException(name, $"unknown device; expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>The name <see cref="Open"/> takes for an accelerator of kind <paramref name="kind"/>.</summary>
    public static string NameOf(GpuKind kind) => kind switch
    {
        GpuKind.Cuda => "cuda",
        GpuKind.OpenCL => "opencl",
        GpuKind.CpuEmulator => "cpu-emulator",
        _ => "auto",
    };

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
