using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;

namespace DiffKernels.Tensors;

/// <summary>Where a tensor lives: a named device served by one backend.</summary>
public sealed class Device
{
    /// <summary>Creates a device over a backend.</summary>
    public Device(string name, IBackend backend)
    {
        Name = name;
        Backend = backend;
    }

    /// <summary>Device name, e.g. "cpu" or "cuda:0".</summary>
    public string Name { get; }

    /// <summary>The backend that owns this device's memory and kernels.</summary>
    public IBackend Backend { get; }

    /// <summary>The managed CPU device (always present).</summary>
    public static Device Cpu { get; } = new("cpu", CpuBackend.Instance);

    /// <summary>The device new tensors are created on when none is given.</summary>
    public static Device Default { get; set; } = Cpu;

    /// <inheritdoc/>
    public override string ToString() => Name;
}
