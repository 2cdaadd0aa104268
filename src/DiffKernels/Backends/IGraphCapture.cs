namespace DiffKernels.Backends;

/// <summary>
/// A backend that can record the work a region of code queues and replay it without running the code again (the GPU
/// backend: a CUDA graph, or a replayed list of launches elsewhere). A training step whose forward and backward queue the
/// same kernels every time on new inputs then costs the host one call per step instead of hundreds of launches.
/// </summary>
public interface IGraphCapture
{
    /// <summary>
    /// Records, without running, the work <paramref name="region"/> queues. The region must have run once before (so
    /// that its memory is in the backend's pool) and must not move data to or from the host nor wait for the device;
    /// it reads its inputs from, and leaves its results in, tensors that outlive it.
    /// </summary>
    ICapturedRegion Capture(Action region);
}

/// <summary>A region recorded by <see cref="IGraphCapture.Capture"/>; disposing it frees what the region held.</summary>
public interface ICapturedRegion : IDisposable
{
    /// <summary>Queues the recorded work once more, with the arguments it was recorded with.</summary>
    void Replay();

    /// <summary>The kernel launches the region made when it was recorded, which each replay repeats.</summary>
    long KernelLaunches { get; }
}
