using DiffKernels.Backends;
using ILGPU.Runtime.Cuda;

namespace DiffKernels.Gpu;

// Capture of a region for replay (GpuGraph): the kernels a region queues become a CUDA graph on CUDA and a replay list
// elsewhere. Nothing in the region may wait for the device or move data through the host, since a replay runs no host code.
public sealed partial class GpuBackend
{
    private string? _capturing;

    /// <summary>True while <see cref="Capture"/> is recording a region.</summary>
    public bool IsCapturing => _capturing != null;

    /// <summary>
    /// Records the kernels <paramref name="region"/> queues, without running them, into a graph that
    /// <see cref="GpuGraph.Replay"/> runs. The region must have run once before (kernels compiled, the split-K counters
    /// made, the buffer pool holding what it rents), and must not upload, download or synchronise: each throws
    /// here, naming the call. Buffers the region uses must not be freed or written by others between replays: those
    /// it rents or releases itself are kept for the graph (until it is disposed); those from outside are the caller's.
    /// </summary>
    public GpuGraph Capture(Action region)
    {
        ArgumentNullException.ThrowIfNull(region);
        ThrowIfCapturing("Capture");
        if (_splitCounters == null) SplitCounters(0);
        bool driver = Kind == GpuKind.Cuda;
        // Work queued before the region must not become part of it, nor the ring's copies still in flight.
        Synchronize();
        var launches = driver ? null : new List<Action>();
        long before = KernelLaunches;
        var hold = _pool.BeginRecording();
        _capturing = "Capture";
        if (driver) CudaGraphApi.BeginCapture(CudaStreamHandle);
        else _k.Record(launches);
        IntPtr exec = IntPtr.Zero;
        try
        {
            region();
            if (driver) exec = CudaGraphApi.EndCaptureAndInstantiate(CudaStreamHandle);
        }
        catch
        {
            if (driver) CudaGraphApi.AbandonCapture(CudaStreamHandle);
            _pool.ReleaseHold(hold);
            throw;
        }
        finally
        {
            _capturing = null;
            _k.Record(null);
            _pool.EndRecording();
        }
        return new GpuGraph(this, hold, launches, exec, KernelLaunches - before);
    }

    ICapturedRegion IGraphCapture.Capture(Action region) => Capture(region);

    /// <summary>The CUDA handle of the backend's stream.</summary>
    internal IntPtr CudaStreamHandle => ((CudaStream)_stream).StreamPtr;

    internal void ReleaseHold(CaptureHold hold) => _pool.ReleaseHold(hold);

    /// <summary>Throws when a region is being captured: <paramref name="call"/> would need the host inside a replay.</summary>
    internal void ThrowIfCapturing(string call)
    {
        if (_capturing != null)
            throw new InvalidOperationException(
                $"{Name} backend: {call} inside a captured region: a replay runs kernels only, so move host transfers and waits before or after the region");
    }
}
