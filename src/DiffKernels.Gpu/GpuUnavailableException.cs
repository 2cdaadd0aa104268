namespace DiffKernels.Gpu;

/// <summary>
/// Thrown when the requested kind of accelerator is not present on this machine: an <see cref="InvalidInputException"/>
/// whose subject is the device asked for (e.g. "cuda").
/// </summary>
public sealed class GpuUnavailableException(string device, string problem) : InvalidInputException(device, problem);
