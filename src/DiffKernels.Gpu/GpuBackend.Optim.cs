using DiffKernels.Backends;
using DiffKernels.Kernels;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (n == 0) return;
        // Bias corrections in double, as on the CPU: for β₂ near 1 and small t, 1 − β₂ᵗ loses digits in float.
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        var c = new AdamScalars
        {
            Beta1 = beta1, OneMinusBeta1 = 1 - beta1, Beta2 = beta2, OneMinusBeta2 = 1 - beta2,
            StepSize = (float)(lr / bc1), InvSqrtBc2 = (float)(1 / Math.Sqrt(bc2)), Eps = eps,
            L2 = decoupled ? 0f : weightDecay, Shrink = decoupled ? 1f - lr * weightDecay : 1f,
        };
        _k.Adam(I(n), V(param), V(grad), V(m), V(v), c);
    }

    /// <inheritdoc/>
    public void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight)
    {
        if (n > 0) _k.Lerp(I(n), V(dst), V(src), weight);
    }
}
