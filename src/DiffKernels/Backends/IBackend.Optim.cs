namespace DiffKernels.Backends;

public partial interface IBackend
{
    /// <summary>
    /// One fused Adam/AdamW update of <paramref name="n"/> elements, in place on
    /// <paramref name="param"/>, <paramref name="m"/> and <paramref name="v"/>. With
    /// <paramref name="decoupled"/> the decay shrinks the parameter directly (p ← p·(1 − lr·wd), AdamW);
    /// otherwise wd·p is added to the gradient (L2, Adam). Moments are bias-corrected for
    /// <paramref name="step"/> (1-based): p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε).
    /// </summary>
    void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step);

    /// <summary>dst[i] ← dst[i] + weight·(src[i] − dst[i]) for i &lt; n (EMA shadows, interpolation).</summary>
    void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight);

    /// <summary>
    /// <see cref="AdamStep"/> over <paramref name="n"/> elements in one pass, with the gradient first multiplied by
    /// <paramref name="gradScale"/> (global-norm clipping; the gradient buffer is not written) and, when
    /// <paramref name="shadow"/> is given, the EMA shadow then moved towards each updated parameter with
    /// <paramref name="emaWeight"/>. Per element exactly what scaling the gradient, <see cref="AdamStep"/> and
    /// <see cref="Lerp"/>(shadow, param, n, emaWeight) give one after another.
    /// </summary>
    void AdamEmaStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, DeviceBuffer? shadow, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step, float gradScale, float emaWeight);

    /// <summary>
    /// result[0] ← Σ x[i]² over the segments [offsets[k], offsets[k] + lengths[k]) of <paramref name="x"/>, for a
    /// gradient norm in one call. Deterministic: the order of summation depends on the segments alone. The CPU sums
    /// each segment as TensorPrimitives.SumOfSquares does and adds the segment sums in order in float, exactly as
    /// summing per-tensor squares one tensor after another would; other backends may sum the whole span from the first
    /// segment's start to the last one's end in their own fixed order, so elements between segments must be zero.
    /// </summary>
    void SumOfSquares(DeviceBuffer x, long[] offsets, long[] lengths, DeviceBuffer result);
}
