using DiffKernels.Backends;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>Forwards every backend call to <see cref="Inner"/> and records the member names used.</summary>
public sealed class RecordingBackend(IBackend inner) : IBackend
{
    public IBackend Inner { get; } = inner;

    public HashSet<string> Called { get; } = [];

    private T Rec<T>(string member, Func<T> call)
    {
        Called.Add(member);
        return call();
    }

    private void Rec(string member) => Called.Add(member);

    public string Name => Inner.Name;

    public void AttentionForward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, int b, int nq, int nk, int heads, int d, float scale)
    {
        Rec(nameof(AttentionForward));
        Inner.AttentionForward(q, k, v, o, lse, b, nq, nk, heads, d, scale);
    }

    public void AttentionBackward(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer o, DeviceBuffer lse, DeviceBuffer dO, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, int b, int nq, int nk, int heads, int d, float scale)
    {
        Rec(nameof(AttentionBackward));
        Inner.AttentionBackward(q, k, v, o, lse, dO, dq, dk, dv, b, nq, nk, heads, d, scale);
    }

    public void Binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        Rec(nameof(Binary));
        Inner.Binary(op, a, aStrides, b, bStrides, y, shape);
    }

    public void Reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, long outer, long reduce, long inner)
    {
        Rec(nameof(Reduce));
        Inner.Reduce(op, x, y, outer, reduce, inner);
    }

    public void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        Rec(nameof(Conv2dForward));
        Inner.Conv2dForward(g, x, w, bias, y);
    }

    public void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        Rec(nameof(Conv2dBackwardData));
        Inner.Conv2dBackwardData(g, dy, w, dx);
    }

    public void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw)
    {
        Rec(nameof(Conv2dBackwardWeight));
        Inner.Conv2dBackwardWeight(g, x, dy, dw);
    }

    public void TimestepEmbedding(DeviceBuffer t, DeviceBuffer y, int n, int half, float maxPeriod)
    {
        Rec(nameof(TimestepEmbedding));
        Inner.TimestepEmbedding(t, y, n, half, maxPeriod);
    }

    public void TimestepEmbeddingBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dt, int n, int half, float maxPeriod)
    {
        Rec(nameof(TimestepEmbeddingBackward));
        Inner.TimestepEmbeddingBackward(y, dy, dt, n, half, maxPeriod);
    }

    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DeviceBuffer a, long aOffset, int lda, DeviceBuffer b, long bOffset, int ldb, float beta, DeviceBuffer c, long cOffset, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        Rec(nameof(Gemm));
        Inner.Gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, batch, strideA, strideB, strideC);
    }

    public void GroupNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int n, long spatial, int c, int groups, float eps, bool silu)
    {
        Rec(nameof(GroupNormForward));
        Inner.GroupNormForward(x, gamma, beta, y, mean, rstd, n, spatial, c, groups, eps, silu);
    }

    public void GroupNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, int n, long spatial, int c, int groups, bool silu)
    {
        Rec(nameof(GroupNormBackward));
        Inner.GroupNormBackward(x, gamma, beta, mean, rstd, dy, dx, dgamma, dbeta, n, spatial, c, groups, silu);
    }

    public void LayerNormForward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer? beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, long rows, int d, float eps)
    {
        Rec(nameof(LayerNormForward));
        Inner.LayerNormForward(x, gamma, beta, y, mean, rstd, rows, d, eps);
    }

    public void LayerNormBackward(DeviceBuffer x, DeviceBuffer? gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer? dgamma, DeviceBuffer? dbeta, long rows, int d)
    {
        Rec(nameof(LayerNormBackward));
        Inner.LayerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, d);
    }

    public void AdamStep(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, int step)
    {
        Rec(nameof(AdamStep));
        Inner.AdamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    public void Lerp(DeviceBuffer dst, DeviceBuffer src, long n, float weight)
    {
        Rec(nameof(Lerp));
        Inner.Lerp(dst, src, n, weight);
    }

    public void Upsample2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        Rec(nameof(Upsample2x));
        Inner.Upsample2x(x, y, n, h, w, c);
    }

    public void Upsample2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        Rec(nameof(Upsample2xBackward));
        Inner.Upsample2xBackward(dy, dx, n, h, w, c);
    }

    public void AvgPool2x(DeviceBuffer x, DeviceBuffer y, int n, int h, int w, int c)
    {
        Rec(nameof(AvgPool2x));
        Inner.AvgPool2x(x, y, n, h, w, c);
    }

    public void AvgPool2xBackward(DeviceBuffer dy, DeviceBuffer dx, int n, int h, int w, int c)
    {
        Rec(nameof(AvgPool2xBackward));
        Inner.AvgPool2xBackward(dy, dx, n, h, w, c);
    }

    public void FillUniform(DeviceBuffer dst, long count, ulong seed, ulong offset)
    {
        Rec(nameof(FillUniform));
        Inner.FillUniform(dst, count, seed, offset);
    }

    public void FillNormal(DeviceBuffer dst, long count, ulong seed, ulong offset, float mean, float std)
    {
        Rec(nameof(FillNormal));
        Inner.FillNormal(dst, count, seed, offset, mean, std);
    }

    public void Softmax(DeviceBuffer x, DeviceBuffer y, long outer, long axis, long inner, bool log)
    {
        Rec(nameof(Softmax));
        Inner.Softmax(x, y, outer, axis, inner, log);
    }

    public void SoftmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long outer, long axis, long inner, bool log)
    {
        Rec(nameof(SoftmaxBackward));
        Inner.SoftmaxBackward(y, dy, dx, outer, axis, inner, log);
    }

    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long n, float alpha, float beta)
    {
        Rec(nameof(Unary));
        Inner.Unary(op, x, y, n, alpha, beta);
    }

    public void UnaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, long n, float alpha, float beta)
    {
        Rec(nameof(UnaryBackward));
        Inner.UnaryBackward(op, x, y, dy, dx, n, alpha, beta);
    }

    public void Where(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer y, Shape shape)
    {
        Rec(nameof(Where));
        Inner.Where(cond, condStrides, a, aStrides, b, bStrides, y, shape);
    }

    public DeviceBuffer Allocate(long length) => Rec(nameof(Allocate), () => Inner.Allocate(length));

    public void Upload(ReadOnlySpan<float> src, DeviceBuffer dst, long dstOffset)
    {
        Rec(nameof(Upload));
        Inner.Upload(src, dst, dstOffset);
    }

    public void Download(DeviceBuffer src, long srcOffset, Span<float> dst)
    {
        Rec(nameof(Download));
        Inner.Download(src, srcOffset, dst);
    }

    public void Fill(DeviceBuffer dst, long offset, long count, float value)
    {
        Rec(nameof(Fill));
        Inner.Fill(dst, offset, count, value);
    }

    public void CopyStrided(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, Shape shape)
    {
        Rec(nameof(CopyStrided));
        Inner.CopyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
    }

    public void Synchronize()
    {
        Rec(nameof(Synchronize));
        Inner.Synchronize();
    }
}
