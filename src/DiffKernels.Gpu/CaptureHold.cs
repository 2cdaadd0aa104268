using ILGPU;
using ILGPU.Runtime;

namespace DiffKernels.Gpu;

/// <summary>
/// The buffers a captured region touches (BufferPool.BeginRecording): those it rented and those it released. Released
/// ones are parked here rather than freed; the region's own later rents take them back (its replays run in the same
/// order), nobody else's do.
/// </summary>
internal sealed class CaptureHold
{
    private readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _parked = [];

    /// <summary>Buffers rented while the region was recorded, and buffers it released.</summary>
    public HashSet<MemoryBuffer1D<float, Stride1D.Dense>> Rented { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>Parked buffers, to free when the graph goes.</summary>
    public IEnumerable<MemoryBuffer1D<float, Stride1D.Dense>> Parked => _parked.Values.SelectMany(s => s);

    public void Park(MemoryBuffer1D<float, Stride1D.Dense> memory)
    {
        Rented.Add(memory);
        if (!_parked.TryGetValue(memory.Length, out var stack)) _parked[memory.Length] = stack = new();
        stack.Push(memory);
    }

    public MemoryBuffer1D<float, Stride1D.Dense>? TakeReleased(long bucket) =>
        _parked.TryGetValue(bucket, out var stack) && stack.Count > 0 ? stack.Pop() : null;
}
