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
}
