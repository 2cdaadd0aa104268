using System.Diagnostics;
using DiffKernels.Distributed;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training;

/// <summary>
/// A process group that clocks the wall time its collectives take (all-reduces, broadcasts and barriers, waiting for
/// the slowest rank included) and hands every call to the group it wraps. A data-parallel run reads
/// <see cref="TakeMilliseconds"/> once per log line, so the log says what the transport costs per step. One stopwatch
/// per call: nothing per element. The wrapped group stays its owner's to dispose.
/// </summary>
internal sealed class TimedProcessGroup(IProcessGroup inner) : IProcessGroup
{
    private long _ticks;

    /// <inheritdoc/>
    public int Rank => inner.Rank;

    /// <inheritdoc/>
    public int WorldSize => inner.WorldSize;

    /// <inheritdoc/>
    public string Name => inner.Name;

    /// <summary>Milliseconds spent in collectives since the last call (or since the start).</summary>
    public double TakeMilliseconds()
    {
        long ticks = _ticks;
        _ticks = 0;
        return ticks * 1000.0 / Stopwatch.Frequency;
    }

    /// <inheritdoc/>
    public void AllReduceSum(IReadOnlyList<Tensor> tensors)
    {
        long start = Stopwatch.GetTimestamp();
        inner.AllReduceSum(tensors);
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <inheritdoc/>
    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        long start = Stopwatch.GetTimestamp();
        inner.Broadcast(tensors, root);
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
        long start = Stopwatch.GetTimestamp();
        inner.AllReduceSum(values);
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <inheritdoc/>
    public void Broadcast(Span<float> values, int root)
    {
        long start = Stopwatch.GetTimestamp();
        inner.Broadcast(values, root);
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        long start = Stopwatch.GetTimestamp();
        inner.Barrier();
        _ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Leaves the wrapped group open: it belongs to whoever opened it.</summary>
    public void Dispose()
    {
    }
}
