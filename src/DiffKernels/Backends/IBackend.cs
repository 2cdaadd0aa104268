using DiffKernels.Tensors;

namespace DiffKernels.Backends;

/// <summary>
/// The kernel contract every backend implements. Tensors reach memory only through it.
/// Calls may be asynchronous: results are guaranteed visible to the host only after
/// <see cref="Download"/> or <see cref="Synchronize"/>. Kernels assume valid arguments;
/// shapes are checked in the functional API (<c>F</c>). The interface is split by op family
/// across files (partial), each with its CPU kernel beside it.
/// </summary>
public partial interface IBackend
{
    /// <summary>Short backend name ("cpu", "cuda", ...).</summary>
    string Name { get; }

    /// <summary>Allocates <paramref name="length"/> float32 elements; contents are undefined.</summary>
    DeviceBuffer Allocate(long length);

    /// <summary>Copies host data into <paramref name="dst"/> starting at element <paramref name="dstOffset"/>.</summary>
    void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset);

    /// <summary>Copies <c>dst.Length</c> elements from <paramref name="src"/> at <paramref name="srcOffset"/> to the host (a sync point).</summary>
    void Download(DeviceBuffer src, long srcOffset, Span<float> dst);

    /// <summary>Sets <paramref name="count"/> elements from <paramref name="offset"/> to <paramref name="value"/>.</summary>
    void Fill(DeviceBuffer dst, long offset, long count, float value);

    /// <summary>
    /// Strided copy over a logical <paramref name="shape"/>: dst[dstOffset + Σ i_k·dstStrides_k] =
    /// src[srcOffset + Σ i_k·srcStrides_k]. Covers permute, expand (zero strides), narrow, concat and split.
    /// </summary>
    void CopyStrided(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, Shape shape);

    /// <summary>Waits for all queued work.</summary>
    void Synchronize();
}
