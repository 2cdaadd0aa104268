using System.Numerics.Tensors;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// Attention the textbook way for one head: the full probability matrix P = softmax(scale·Q·Kᵀ) is
/// materialised, with OpenBLAS for the four products; batches run in parallel, OpenBLAS single-threaded
/// inside each. The backward uses P kept from the forward, as frameworks do.
/// </summary>
public sealed unsafe class MaterialisedAttention(int b, int n, int d, float scale)
{
    private readonly float[] _p = HostArrays.Zeros((long)b * n * n);
    private readonly float[] _dp = HostArrays.Zeros((long)b * n * n);

    /// <summary>o = P·v with P from q and k; P is kept for <see cref="Backward"/>.</summary>
    public void Forward(float[] q, float[] k, float[] v, float[] o)
    {
        OpenBlas.Threads(1);
        try
        {
            Parallel.For(0, b, BaselineThreads.Options, bi =>
            {
                long md = (long)bi * n * d, mp = (long)bi * n * n;
                fixed (float* pq = q, pk = k, pv = v, po = o, pp = _p)
                {
                    OpenBlas.Gemm(false, true, n, n, d, scale, pq + md, d, pk + md, d, 0f, pp + mp, n);
                    for (int i = 0; i < n; i++)
                    {
                        var row = _p.AsSpan((int)(mp + (long)i * n), n);
                        TensorPrimitives.SoftMax(row, row);
                    }
                    OpenBlas.Gemm(false, false, n, d, n, 1f, pp + mp, n, pv + md, d, 0f, po + md, d);
                }
            });
        }
        finally
        {
            OpenBlas.Threads(BaselineThreads.Count);
        }
    }

    /// <summary>dq, dk, dv from dO and the P of the last forward.</summary>
    public void Backward(float[] q, float[] k, float[] v, float[] dO, float[] dq, float[] dk, float[] dv)
    {
        OpenBlas.Threads(1);
        try
        {
            Parallel.For(0, b, BaselineThreads.Options, bi =>
            {
                long md = (long)bi * n * d, mp = (long)bi * n * n;
                fixed (float* pq = q, pk = k, pv = v, pg = dO, pdq = dq, pdk = dk, pdv = dv, pp = _p, pdp = _dp)
                {
                    OpenBlas.Gemm(true, false, n, d, n, 1f, pp + mp, n, pg + md, d, 0f, pdv + md, d);
                    OpenBlas.Gemm(false, true, n, n, d, 1f, pg + md, d, pv + md, d, 0f, pdp + mp, n);
                    for (int i = 0; i < n; i++)
                    {
                        var p = _p.AsSpan((int)(mp + (long)i * n), n);
                        var g = _dp.AsSpan((int)(mp + (long)i * n), n);
                        float delta = TensorPrimitives.Dot(p, g);
                        TensorPrimitives.Subtract(g, delta, g);
                        TensorPrimitives.Multiply(g, p, g);
                    }
                    OpenBlas.Gemm(false, false, n, d, n, scale, pdp + mp, n, pk + md, d, 0f, pdq + md, d);
                    OpenBlas.Gemm(true, false, n, d, n, scale, pdp + mp, n, pq + md, d, 0f, pdk + md, d);
                }
            });
        }
        finally
        {
            OpenBlas.Threads(BaselineThreads.Count);
        }
    }
}
