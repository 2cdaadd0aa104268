using DiffKernels.Backends;

namespace DiffKernels.Gpu;

public sealed partial class GpuBackend
{
    /// <summary>Element count of a schedule op, or 0 when there is nothing to do.</summary>
    private static int Elements(int batch, long perSample) => batch <= 0 || perSample <= 0 ? 0 : I(batch * perSample);

    /// <inheritdoc/>
    public void EdmTrainingInputs(DeviceBuffer x0, DeviceBuffer noise, DeviceBuffer sigma, DeviceBuffer x, DeviceBuffer netIn,
        DeviceBuffer target, DeviceBuffer cNoise, int batch, long perSample, float sigmaData)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.EdmTrainingInputs(n, V(x0), V(noise), V(sigma), V(x), V(netIn), V(target), V(cNoise), I(perSample), sigmaData);
    }

    /// <inheritdoc/>
    public void EdmDenoise(DeviceBuffer x, DeviceBuffer f, DeviceBuffer sigma, DeviceBuffer denoised, int batch, long perSample, float sigmaData)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.EdmDenoise(n, V(x), V(f), V(sigma), V(denoised), I(perSample), sigmaData);
    }

    /// <inheritdoc/>
    public void EdmDenoiseUniform(DeviceBuffer x, DeviceBuffer f, DeviceBuffer denoised, long n, float cSkip, float cOut)
    {
        if (n > 0) _k.EdmDenoiseUniform(I(n), V(x), V(f), V(denoised), cSkip, cOut);
    }

    /// <inheritdoc/>
    public void EulerStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer y, long n, float ratio)
    {
        if (n > 0) _k.EulerUniform(I(n), V(x), V(denoised), V(y), ratio);
    }

    /// <inheritdoc/>
    public void HeunStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext, DeviceBuffer y,
        long n, float invFrom, float invTo, float halfStep)
    {
        if (n > 0) _k.HeunUniform(I(n), V(x), V(denoised), V(xNext), V(denoisedNext), V(y), invFrom, invTo, halfStep);
    }

    /// <inheritdoc/>
    public void EulerStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y,
        int batch, long perSample)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.Euler(n, V(x), V(denoised), V(sigmaFrom), V(sigmaTo), V(y), I(perSample));
    }

    /// <inheritdoc/>
    public void HeunStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext,
        DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.Heun(n, V(x), V(denoised), V(xNext), V(denoisedNext), V(sigmaFrom), V(sigmaTo), V(y), I(perSample));
    }

    /// <inheritdoc/>
    public void DdimStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer alphaFrom, DeviceBuffer sigmaFrom,
        DeviceBuffer alphaTo, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.Ddim(n, V(x), V(denoised), V(alphaFrom), V(sigmaFrom), V(alphaTo), V(sigmaTo), V(y), I(perSample));
    }

    /// <inheritdoc/>
    public void ScoreDifference(DeviceBuffer xg, DeviceBuffer realDenoised, DeviceBuffer fakeDenoised, DeviceBuffer grad,
        int batch, long perSample, bool normalise, float eps, float scale)
    {
        if (Elements(batch, perSample) > 0)
            _k.ScoreDifference(Groups(batch, _plan.ReduceGroup), V(xg), V(realDenoised), V(fakeDenoised), V(grad), I(perSample), normalise ? 1 : 0, eps, scale);
    }

    /// <inheritdoc/>
    public void BootTarget(DeviceBuffer y, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample, float minDelta)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.BootTarget(n, V(y), V(denoised), V(sigmaFrom), V(sigmaTo), V(target), V(weight), I(perSample), minDelta);
    }

    /// <inheritdoc/>
    public void PdTarget(DeviceBuffer xFrom, DeviceBuffer xTo, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target,
        DeviceBuffer weight, int batch, long perSample)
    {
        int n = Elements(batch, perSample);
        if (n > 0) _k.PdTarget(n, V(xFrom), V(xTo), V(sigmaFrom), V(sigmaTo), V(target), V(weight), I(perSample));
    }

    /// <inheritdoc/>
    public void ThresholdX0(DeviceBuffer x0, DeviceBuffer y, int batch, long perSample, float quantile)
    {
        if (Elements(batch, perSample) > 0) _k.ThresholdX0(Groups(batch, _plan.ReduceGroup), V(x0), V(y), I(perSample), quantile);
    }
}
