using DiffKernels.Tensors;

namespace DiffKernels.Backends;

/// <summary>
/// An <see cref="IBackend"/> that hands every call to <see cref="Inner"/>, bracketed by <see cref="Enter"/> and
/// <see cref="Exit"/>: the one place where tools that watch a backend (a kernel profiler, a coverage recorder)
/// hook in, so each does not restate the whole contract.
/// </summary>
/// <param name="inner">The backend that does the work; buffers are its own, passed through untouched.</param>
public abstract class ForwardingBackend(IBackend inner) : IBackend
{
    /// <summary>The backend every call is handed to.</summary>
    public IBackend Inner { get; } = inner;

    /// <inheritdoc/>
    public virtual string Name => Inner.Name;

    /// <summary>Called before each call with its label: the member name, with the op or geometry where one member serves many.</summary>
    protected abstract void Enter(string label);

    /// <summary>Called after each call returns or throws.</summary>
    protected virtual void Exit() { }

    private static string Label(string member, object op) => $"{member} {op}";

    private static string Label(string member, Conv2dGeometry g) =>
        $"{member} {g.KH}x{g.KW}{(g.StrideH > 1 ? "/" + g.StrideH : "")} {g.Cin}->{g.Cout} at {g.H}x{g.W}";

    /// <inheritdoc/>
    public void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, int b, int nq, int nk, int heads, int d, float scale)
    {
        Enter(nameof(AttentionForward));
        try { Inner.AttentionForward(q, k, v, o, lse, b, nq, nk, heads, d, scale); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        Enter(nameof(AttentionBackward));
        try { Inner.AttentionBackward(q, k, v, o, lse, dO, dq, dk, dv, b, nq, nk, heads, d, scale); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        Enter(Label(nameof(Binary), op));
        try { Inner.Binary(op, a, aStrides, b, bStrides, y, shape); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, long outer, long reduce, long inner)
    {
        Enter(Label(nameof(Reduce), op));
        try { Inner.Reduce(op, x, y, outer, reduce, inner); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        Enter(Label(nameof(Conv2dForward), g));
        try { Inner.Conv2dForward(g, x, w, bias, y); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        Enter(Label(nameof(Conv2dBackwardData), g));
        try { Inner.Conv2dBackwardData(g, dy, w, dx); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw)
    {
        Enter(Label(nameof(Conv2dBackwardWeight), g));
        try { Inner.Conv2dBackwardWeight(g, x, dy, dw); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeightBias(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer db)
    {
        Enter(Label(nameof(Conv2dBackwardWeightBias), g));
        try { Inner.Conv2dBackwardWeightBias(g, x, dy, dw, db); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void TimestepEmbedding(DeviceBuffer t, DeviceBuffer y, int n, int half, float maxPeriod)
    {
        Enter(nameof(TimestepEmbedding));
        try { Inner.TimestepEmbedding(t, y, n, half, maxPeriod); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void TimestepEmbeddingBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dt, int n, int half, float maxPeriod)
    {
        Enter(nameof(TimestepEmbeddingBackward));
        try { Inner.TimestepEmbeddingBackward(y, dy, dt, n, half, maxPeriod); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta, DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC, DeviceBuffer? bias = null)
    {
        Enter(nameof(Gemm));
        try { Inner.Gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, batch, strideA, strideB, strideC, bias); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int n, long spatial, int c, int groups, float eps, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, int filmStride = 0)
    {
        Enter(nameof(GroupNormForward));
        try { Inner.GroupNormForward(x, gamma, beta, y, mean, rstd, n, spatial, c, groups, eps, silu, scale, shift, filmStride); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu, DeviceBuffer? scale = null, DeviceBuffer? shift = null, DeviceBuffer? dscale = null, DeviceBuffer? dshift = null, int filmStride = 0)
    {
        Enter(nameof(GroupNormBackward));
        try { Inner.GroupNormBackward(x, gamma, beta, mean, rstd, dy, dx, dgamma, dbeta, n, spatial, c, groups, silu, scale, shift, dscale, dshift, filmStride); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void LayerNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, long rows, int d, float eps)
    {
        Enter(nameof(LayerNormForward));
        try { Inner.LayerNormForward(x, gamma, beta, y, mean, rstd, rows, d, eps); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void LayerNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, long rows, int d)
    {
        Enter(nameof(LayerNormBackward));
        try { Inner.LayerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, d); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        Enter(nameof(AdamStep));
        try { Inner.AdamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight)
    {
        Enter(nameof(Lerp));
        try { Inner.Lerp(dst, src, n, weight); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void AdamEmaStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, DeviceBuffer? shadow, long n,
        float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step, float gradScale, float emaWeight)
    {
        Enter(nameof(AdamEmaStep));
        try { Inner.AdamEmaStep(param, grad, m, v, shadow, n, lr, beta1, beta2, eps, weightDecay, decoupled, step, gradScale, emaWeight); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void SumOfSquares(DeviceBuffer x, long[] offsets, long[] lengths, DeviceBuffer result)
    {
        Enter(nameof(SumOfSquares));
        try { Inner.SumOfSquares(x, offsets, lengths, result); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Upsample2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        Enter(nameof(Upsample2x));
        try { Inner.Upsample2x(x, y, n, h, w, c); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Upsample2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        Enter(nameof(Upsample2xBackward));
        try { Inner.Upsample2xBackward(dy, dx, n, h, w, c); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void AvgPool2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        Enter(nameof(AvgPool2x));
        try { Inner.AvgPool2x(x, y, n, h, w, c); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void AvgPool2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        Enter(nameof(AvgPool2xBackward));
        try { Inner.AvgPool2xBackward(dy, dx, n, h, w, c); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void FillUniform(DeviceBuffer dst, long count, ulong seed, ulong offset)
    {
        Enter(nameof(FillUniform));
        try { Inner.FillUniform(dst, count, seed, offset); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void FillNormal(DeviceBuffer dst, long count, ulong seed, ulong offset, float mean, float std)
    {
        Enter(nameof(FillNormal));
        try { Inner.FillNormal(dst, count, seed, offset, mean, std); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void EdmTrainingInputs(DeviceBuffer x0, DeviceBuffer noise, DeviceBuffer sigma, DeviceBuffer x, DeviceBuffer netIn, DeviceBuffer target, DeviceBuffer cNoise, int batch, long perSample, float sigmaData)
    {
        Enter(nameof(EdmTrainingInputs));
        try { Inner.EdmTrainingInputs(x0, noise, sigma, x, netIn, target, cNoise, batch, perSample, sigmaData); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void EdmDenoise(DeviceBuffer x, DeviceBuffer f, DeviceBuffer sigma, DeviceBuffer denoised, int batch, long perSample, float sigmaData)
    {
        Enter(nameof(EdmDenoise));
        try { Inner.EdmDenoise(x, f, sigma, denoised, batch, perSample, sigmaData); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void EdmDenoiseUniform(DeviceBuffer x, DeviceBuffer f, DeviceBuffer denoised, long n, float cSkip, float cOut)
    {
        Enter(nameof(EdmDenoiseUniform));
        try { Inner.EdmDenoiseUniform(x, f, denoised, n, cSkip, cOut); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void EulerStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer y, long n, float ratio)
    {
        Enter(nameof(EulerStepUniform));
        try { Inner.EulerStepUniform(x, denoised, y, n, ratio); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void HeunStepUniform(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext, DeviceBuffer y, long n, float invFrom, float invTo, float halfStep)
    {
        Enter(nameof(HeunStepUniform));
        try { Inner.HeunStepUniform(x, denoised, xNext, denoisedNext, y, n, invFrom, invTo, halfStep); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void EulerStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        Enter(nameof(EulerStep));
        try { Inner.EulerStep(x, denoised, sigmaFrom, sigmaTo, y, batch, perSample); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void HeunStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer xNext, DeviceBuffer denoisedNext, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        Enter(nameof(HeunStep));
        try { Inner.HeunStep(x, denoised, xNext, denoisedNext, sigmaFrom, sigmaTo, y, batch, perSample); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void DdimStep(DeviceBuffer x, DeviceBuffer denoised, DeviceBuffer alphaFrom, DeviceBuffer sigmaFrom, DeviceBuffer alphaTo, DeviceBuffer sigmaTo, DeviceBuffer y, int batch, long perSample)
    {
        Enter(nameof(DdimStep));
        try { Inner.DdimStep(x, denoised, alphaFrom, sigmaFrom, alphaTo, sigmaTo, y, batch, perSample); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void ScoreDifference(DeviceBuffer xg, DeviceBuffer realDenoised, DeviceBuffer fakeDenoised, DeviceBuffer grad, int batch, long perSample, bool normalise, float eps, float scale)
    {
        Enter(nameof(ScoreDifference));
        try { Inner.ScoreDifference(xg, realDenoised, fakeDenoised, grad, batch, perSample, normalise, eps, scale); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void BootTarget(DeviceBuffer y, DeviceBuffer denoised, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target, DeviceBuffer weight, int batch, long perSample, float minDelta)
    {
        Enter(nameof(BootTarget));
        try { Inner.BootTarget(y, denoised, sigmaFrom, sigmaTo, target, weight, batch, perSample, minDelta); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void PdTarget(DeviceBuffer xFrom, DeviceBuffer xTo, DeviceBuffer sigmaFrom, DeviceBuffer sigmaTo, DeviceBuffer target, DeviceBuffer weight, int batch, long perSample)
    {
        Enter(nameof(PdTarget));
        try { Inner.PdTarget(xFrom, xTo, sigmaFrom, sigmaTo, target, weight, batch, perSample); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void ThresholdX0(DeviceBuffer x0, DeviceBuffer y, int batch, long perSample, float quantile)
    {
        Enter(nameof(ThresholdX0));
        try { Inner.ThresholdX0(x0, y, batch, perSample, quantile); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, long outer, long axis, long inner, bool log)
    {
        Enter(nameof(Softmax));
        try { Inner.Softmax(x, y, outer, axis, inner, log); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long outer, long axis, long inner, bool log)
    {
        Enter(nameof(SoftmaxBackward));
        try { Inner.SoftmaxBackward(y, dy, dx, outer, axis, inner, log); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long n, float alpha, float beta)
    {
        Enter(Label(nameof(Unary), op));
        try { Inner.Unary(op, x, y, n, alpha, beta); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long n, float alpha, float beta)
    {
        Enter(Label(nameof(UnaryBackward), op));
        try { Inner.UnaryBackward(op, x, y, dy, dx, n, alpha, beta); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Where(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        Enter(nameof(Where));
        try { Inner.Where(cond, condStrides, a, aStrides, b, bStrides, y, shape); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long length)
    {
        Enter(nameof(Allocate));
        try { return Inner.Allocate(length); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset)
    {
        Enter(nameof(Upload));
        try { Inner.Upload(src, dst, dstOffset); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, long srcOffset, Span<float> dst)
    {
        Enter(nameof(Download));
        try { Inner.Download(src, srcOffset, dst); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, long offset, long count, float value)
    {
        Enter(nameof(Fill));
        try { Inner.Fill(dst, offset, count, value); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void CopyStrided(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, Shape shape)
    {
        Enter(nameof(CopyStrided));
        try { Inner.CopyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape); }
        finally { Exit(); }
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        Enter(nameof(Synchronize));
        try { Inner.Synchronize(); }
        finally { Exit(); }
    }
}
