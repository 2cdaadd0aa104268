using DiffKernels.Tensors;

namespace DiffKernels.Backends.Cpu;

/// <summary>
/// The managed CPU backend: the reference every other backend is checked against, and the real CPU
/// path (SIMD kernels, all cores). Executes synchronously. Kernels are split by op family (partial).
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    private CpuBackend() { }

    /// <summary>The process-wide instance.</summary>
    public static CpuBackend Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long length)
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"cpu backend: {length} elements exceed the largest array");
        return new CpuBuffer(this, CpuArrayPool.Shared.Rent((int)length), length);
    }

    /// <summary>The elements of a CPU buffer.</summary>
    internal static Span<float> S(DeviceBuffer b) => ((CpuBuffer)b).Span;

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset) => src.CopyTo(S(dst)[(int)dstOffset..]);

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, long srcOffset, Span<float> dst) => S(src).Slice((int)srcOffset, dst.Length).CopyTo(dst);

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, long offset, long count, float value) => S(dst).Slice((int)offset, (int)count).Fill(value);

    /// <inheritdoc/>
    public void Synchronize() { }

    /// <inheritdoc/>
    public void CopyStrided(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, Shape shape)
    {
        var s = ((CpuBuffer)src).Data;
        var d = ((CpuBuffer)dst).Data;
        int r = shape.Rank;
        if (r == 0) { d[dstOffset] = s[srcOffset]; return; }
        int inner = shape[r - 1];
        long si = srcStrides[r - 1], di = dstStrides[r - 1];
        long rows = shape.Numel / Math.Max(1, inner);
        if (inner == 0 || rows == 0) return;
        CpuParallel.For(rows, inner, (start, end) =>
        {
            for (long row = start; row < end; row++)
            {
                long so = srcOffset, dOff = dstOffset, rem = row;
                for (int k = r - 2; k >= 0; k--)
                {
                    long ik = rem % shape[k];
                    rem /= shape[k];
                    so += ik * srcStrides[k];
                    dOff += ik * dstStrides[k];
                }
                if (si == 1 && di == 1) s.AsSpan((int)so, inner).CopyTo(d.AsSpan((int)dOff, inner));
                else if (si == 0 && di == 1) d.AsSpan((int)dOff, inner).Fill(s[so]);
                else for (int i = 0; i < inner; i++) d[dOff + i * di] = s[so + i * si];
            }
        });
    }
}
