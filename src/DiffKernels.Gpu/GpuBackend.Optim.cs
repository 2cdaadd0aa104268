using DiffKernels.Backends;
using DiffKernels.Kernels;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <inheritdoc/>
    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        if (n > 0) _k.Adam(I(n), V(param), V(grad), V(m), V(v), AdamScalarsFor(lr, beta1, beta2, eps, weightDecay, decoupled, step));
    }

    /// <inheritdoc/>
    public void AdamEmaStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, DeviceBuffer? shadow, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step, float gradScale, float emaWeight)
    {
        if (n == 0) return;
        var p = V(param);
        _k.AdamEma(I(n), p, V(grad), V(m), V(v), shadow == null ? p : V(shadow),
            AdamScalarsFor(lr, beta1, beta2, eps, weightDecay, decoupled, step), gradScale, emaWeight, shadow == null ? 0 : 1);
    }

    /// <summary>Elements per group of the sum of squares' first pass (a fixed number, so the grouping depends on the length alone).</summary>
    private const int SquaresChunk = 16384;

    /// <inheritdoc/>
    public void SumOfSquares(DeviceBuffer x, long[] offsets, long[] lengths, DeviceBuffer result)
    {
        // The span from the first segment to the end of the last (what lies between segments is zero by contract),
        // in two fixed passes: a group per chunk, then one group over the chunk sums. No atomics: the same bits every call.
        long start = offsets.Length == 0 ? 0 : offsets[0];
        long end = offsets.Length == 0 ? 0 : offsets[^1] + lengths[^1];
        int n = I(end - start);
        if (n == 0)
        {
            Fill(result, 0, 1, 0f);
            return;
        }
        int chunks = (n + SquaresChunk - 1) / SquaresChunk;
        using var partial = Allocate(chunks).Lease();
        var pv = V(partial.Buffer);
        _k.SquaresRows(Groups(chunks, _plan.ReduceGroup), V(x).SubView(start, n), pv, n, SquaresChunk);
        ReduceView(KernelCodes.Of(ReduceOp.Sum), pv, V(result), 1, chunks, 1);
    }

    /// <summary>Per-call scalars of the fused Adam update; bias corrections in double, as on the CPU (for β₂ near 1 and small t, 1 − β₂ᵗ loses digits in float).</summary>
    private static AdamScalars AdamScalarsFor(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        return new AdamScalars
        {
            Beta1 = beta1, OneMinusBeta1 = 1 - beta1, Beta2 = beta2, OneMinusBeta2 = 1 - beta2,
            StepSize = (float)(lr / bc1), InvSqrtBc2 = (float)(1 / Math.Sqrt(bc2)), Eps = eps,
            L2 = decoupled ? 0f : weightDecay, Shrink = decoupled ? 1f - lr * weightDecay : 1f,
        };
    }

    /// <inheritdoc/>
    public void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight)
    {
        if (n > 0) _k.Lerp(I(n), V(dst), V(src), weight);
    }
}
