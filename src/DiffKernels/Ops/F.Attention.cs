using DiffKernels.Autograd;
using DiffKernels.Tensors;

namespace DiffKernels.Ops;

public static partial class F
{
    /// <summary>
    /// Multi-head scaled-dot-product attention. <paramref name="q"/> is [B, Nq, H·D], <paramref name="k"/>
    /// and <paramref name="v"/> are [B, Nk, H·D]; head h uses channels [h·D, (h+1)·D). Returns
    /// softmax(scale·QKᵀ)·V per head as [B, Nq, H·D]; <paramref name="scale"/> defaults to 1/√D.
    /// No N×N matrix is materialised, forward or backward.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, float? scale = null)
    {
        const string op = "Attention";
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3)
            throw new ArgumentException($"{op}: q, k, v must be [B, N, H·D], got q {q.Shape}, k {k.Shape}, v {v.Shape}");
        if (k.Shape != v.Shape)
            throw new ArgumentException($"{op}: k {k.Shape} and v {v.Shape} must have the same shape");
        if (q.Shape[0] != k.Shape[0] || q.Shape[2] != k.Shape[2])
            throw new ArgumentException($"{op}: q {q.Shape} and k {k.Shape} must agree in batch and channels");
        int b = q.Shape[0], nq = q.Shape[1], nk = k.Shape[1], width = q.Shape[2];
        if (heads < 1 || width == 0 || width % heads != 0)
            throw new ArgumentException($"{op}: {heads} heads do not divide the {width} channels of q {q.Shape}");
        if (nk == 0) throw new ArgumentException($"{op}: k {k.Shape} has no keys to attend to");
        SameDevice(op, q, k, v);
        int d = width / heads;
        float s = scale ?? 1f / MathF.Sqrt(d);

        var o = Tensor.Empty(q.Shape, q.Device);
        var lse = Tensor.Empty([b, heads, nq], q.Device);
        q.Backend.AttentionForward(q.Storage, k.Storage, v.Storage, o.Storage, lse.Storage, b, nq, nk, heads, d, s);
        if (!Graph.Needs(q, k, v))
        {
            lse.Dispose();
            return o;
        }
        return Graph.Record(o, "attention", [q, k, v], dO =>
        {
            var dq = Tensor.Empty(q.Shape, q.Device);
            var dk = Tensor.Empty(k.Shape, q.Device);
            var dv = Tensor.Empty(v.Shape, q.Device);
            q.Backend.AttentionBackward(q.Storage, k.Storage, v.Storage, o.Storage, lse.Storage, dO.Storage,
                dq.Storage, dk.Storage, dv.Storage, b, nq, nk, heads, d, s);
            return [q.RequiresGrad ? dq : null, k.RequiresGrad ? dk : null, v.RequiresGrad ? dv : null];
        });
    }
}
