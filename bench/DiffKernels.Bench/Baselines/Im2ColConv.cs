using DiffKernels.Backends;

namespace DiffKernels.Bench.Baselines;

/// <summary>
/// The classic convolution of frameworks without a direct kernel: per image, an explicit im2col
/// matrix and one OpenBLAS SGEMM (forward, weight gradient), or SGEMM then col2im (data gradient).
/// NHWC input and [Cout, KH, KW, Cin] weights, like ours.
/// </summary>
public sealed unsafe class Im2ColConv(Conv2dGeometry g)
{
    private readonly float[] _col = HostArrays.Zeros((long)g.OH * g.OW * g.PatchSize);
    private int Pixels => g.OH * g.OW;
    private int K => g.PatchSize;

    /// <summary>y = conv(x, w).</summary>
    public void Forward(float[] x, float[] w, float[] y)
    {
        OpenBlas.Threads(BaselineThreads.Count);
        fixed (float* pw = w, py = y, pc = _col)
            for (int n = 0; n < g.N; n++)
            {
                Im2Col(x, n);
                OpenBlas.Gemm(false, true, Pixels, g.Cout, K, 1f, pc, K, pw, K, 0f, py + (long)n * Pixels * g.Cout, g.Cout);
            }
    }

    /// <summary>dx from dy.</summary>
    public void BackwardData(float[] dy, float[] w, float[] dx)
    {
        OpenBlas.Threads(BaselineThreads.Count);
        fixed (float* pw = w, pdy = dy, pc = _col)
            for (int n = 0; n < g.N; n++)
            {
                OpenBlas.Gemm(false, false, Pixels, K, g.Cout, 1f, pdy + (long)n * Pixels * g.Cout, g.Cout, pw, K, 0f, pc, K);
                Col2Im(dx, n);
            }
    }

    /// <summary>dw from x and dy.</summary>
    public void BackwardWeight(float[] x, float[] dy, float[] dw)
    {
        OpenBlas.Threads(BaselineThreads.Count);
        fixed (float* pdw = dw, pdy = dy, pc = _col)
            for (int n = 0; n < g.N; n++)
            {
                Im2Col(x, n);
                OpenBlas.Gemm(true, false, g.Cout, K, Pixels, 1f, pdy + (long)n * Pixels * g.Cout, g.Cout, pc, K, n == 0 ? 0f : 1f, pdw, K);
            }
    }

    private void Im2Col(float[] x, int n)
    {
        Parallel.For(0, g.OH, BaselineThreads.Options, oh =>
        {
            for (int ow = 0; ow < g.OW; ow++)
            {
                var row = _col.AsSpan((oh * g.OW + ow) * K, K);
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                        var dst = row.Slice((kh * g.KW + kw) * g.Cin, g.Cin);
                        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) dst.Clear();
                        else x.AsSpan((int)((((long)n * g.H + ih) * g.W + iw) * g.Cin), g.Cin).CopyTo(dst);
                    }
            }
        });
    }

    private void Col2Im(float[] dx, int n)
    {
        // Gathered per input row so rows can run in parallel without write conflicts.
        Parallel.For(0, g.H, BaselineThreads.Options, ih =>
        {
            for (int iw = 0; iw < g.W; iw++)
            {
                var acc = dx.AsSpan((int)((((long)n * g.H + ih) * g.W + iw) * g.Cin), g.Cin);
                acc.Clear();
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int th = ih + g.PadH - kh, tw = iw + g.PadW - kw;
                        if (th < 0 || tw < 0 || th % g.StrideH != 0 || tw % g.StrideW != 0) continue;
                        int oh = th / g.StrideH, ow = tw / g.StrideW;
                        if (oh >= g.OH || ow >= g.OW) continue;
                        System.Numerics.Tensors.TensorPrimitives.Add(acc, _col.AsSpan((oh * g.OW + ow) * K + (kh * g.KW + kw) * g.Cin, g.Cin), acc);
                    }
            }
        });
    }
}
