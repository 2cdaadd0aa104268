using System.Collections.Concurrent;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// Pools pinned arrays by exact length: a training step allocates the same sizes every iteration,
/// so released buffers are reused without touching the GC. Bounded in total bytes.
/// </summary>
internal static class CpuArrayPool
{
    private const long MaxPooledFloats = 512L * 1024 * 1024 / sizeof(float) * 4; // 2 GiB
    private static readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> Bins = new();
    private static long _pooled;

    public static float[] Rent(int length)
    {
        if (Bins.TryGetValue(length, out var bag) && bag.TryTake(out var arr))
        {
            Interlocked.Add(ref _pooled, -length);
            return arr;
        }
        return GC.AllocateUninitializedArray<float>(Math.Max(length, 1), pinned: true);
    }

    public static void Return(float[] arr)
    {
        if (Interlocked.Add(ref _pooled, arr.Length) > MaxPooledFloats)
        {
            Interlocked.Add(ref _pooled, -arr.Length);
            return;
        }
        Bins.GetOrAdd(arr.Length, _ => new ConcurrentBag<float[]>()).Add(arr);
    }
}
