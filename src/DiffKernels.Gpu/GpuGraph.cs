using DiffKernels.Backends;

namespace DiffKernels.Gpu;

/// <summary>
/// A region of work captured once and replayed many times (<see cref="GpuBackend.Capture"/>): on CUDA an instantiated
/// graph, which the driver replays in one call, so its hundreds of kernel launches cost the host one; on the emulator
/// and OpenCL the recorded list of launches, queued again in order with their recorded arguments, which is what a
/// CUDA graph replays too. A replay runs no host code: it reads and writes the buffers the region used, so the caller
/// changes inputs by writing into those buffers and reads results from them after <see cref="Replay"/>. The buffers the
/// region rented or released stay with the graph until it is disposed.
/// </summary>
public sealed class GpuGraph : ICapturedRegion
{
    private readonly GpuBackend _backend;
    private readonly CaptureHold _hold;
    private readonly IReadOnlyList<Action>? _launches;
    private IntPtr _exec;
    private bool _disposed;

    internal GpuGraph(GpuBackend backend, CaptureHold hold, IReadOnlyList<Action>? launches, IntPtr exec, long kernelLaunches)
    {
        _backend = backend;
        _hold = hold;
        _launches = launches;
        _exec = exec;
        KernelLaunches = kernelLaunches;
    }

    /// <summary>True when the driver replays the region as one CUDA graph; false for a replayed list of launches.</summary>
    public bool IsDriverGraph => _exec != IntPtr.Zero;

    /// <summary>The kernel launches the region made when it was captured, which each replay repeats.</summary>
    public long KernelLaunches { get; }

    /// <summary>Queues one replay on the backend's stream; like a launch, it returns before the work is done.</summary>
    public void Replay()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _backend.ThrowIfCapturing("GpuGraph.Replay");
        if (_exec != IntPtr.Zero) CudaGraphApi.Launch(_exec, _backend.CudaStreamHandle);
        else foreach (var launch in _launches!) launch();
    }

    /// <summary>Frees the graph and gives the region's buffers back to the pool; queued replays finish first.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _backend.Synchronize();
        if (_exec != IntPtr.Zero) CudaGraphApi.Destroy(_exec);
        _exec = IntPtr.Zero;
        _backend.ReleaseHold(_hold);
    }
}
