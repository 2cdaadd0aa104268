namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// Multi-head scaled-dot-product attention. q is [b, nq, h·d], k and v are [b, nk, h·d]; head j
    /// uses channels [j·d, (j+1)·d). o = softmax(scale·q·kᵀ)·v per (batch, head), written as [b, nq, h·d].
    /// <paramref name="lse"/> ([b, h, nq]) receives each row's log-sum-exp of the scaled logits, so
    /// the backward can rebuild the probabilities without storing them.
    /// </summary>
    void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse,
        int b, int nq, int nk, int heads, int d, float scale);

    /// <summary>
    /// Gradients of <see cref="AttentionForward"/> given its output <paramref name="o"/>, the saved
    /// <paramref name="lse"/> and the output gradient <paramref name="dO"/>; dq, dk and dv are overwritten.
    /// </summary>
    void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO,
        DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale);
}
