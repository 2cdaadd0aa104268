namespace DiffKernels.Gpu;

/// <summary>Thrown when the requested kind of accelerator is not present on this machine.</summary>
public sealed class GpuUnavailableException(string message) : Exception(message);
