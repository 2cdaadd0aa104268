namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Softmax (or log-softmax when <paramref name="log"/>) of x viewed as [outer, axis, inner] along
    /// its middle axis, into y of the same layout. The row maximum is subtracted first, so large
    /// logits stay finite. All three extents are at least 1.
    /// </summary>
    void Softmax(DeviceBuffer x, DeviceBuffer y, long outer, long axis, long inner, bool log);

    /// <summary>
    /// Backward of <see cref="Softmax"/> given its output y: dx = y∘(dy − Σ dy∘y) for softmax,
    /// dx = dy − eʸ·Σ dy for log-softmax, sums running along the middle axis.
    /// </summary>
    void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long outer, long axis, long inner, bool log);
}
