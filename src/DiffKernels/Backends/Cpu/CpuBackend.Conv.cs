using System.Numerics.Tensors;
using DiffKernels.Backends.Cpu.Conv;
using DiffKernels.Backends.Cpu.Gemm;

namespace DiffKernels.Backends.Cpu;

// Convolutions run as implicit GEMMs (Conv/ConvImplicit): no im2col matrix for the forward, the
// weight gradient or the stride-1 data gradient. Strided data gradients go through a GEMM into a
// block of the im2col-shaped gradient (a bounded block of output lines at a time) and a gather into dx.
public sealed partial class CpuBackend
{
    /// <summary>
    /// Upper bound, in floats, of one block of the im2col-shaped gradient of a strided data gradient
    /// (a block holds at least one output line); tests shrink it to cover blocking on small shapes.
    /// </summary>
    internal static int ConvBlockFloats { get; set; } = 1 << 22;

    /// <inheritdoc/>
    public void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y) =>
        ConvImplicit.Forward(g, ((CpuBuffer)x).Data, ((CpuBuffer)w).Data, (bias as CpuBuffer)?.Data, ((CpuBuffer)y).Data);

    /// <inheritdoc/>
    public void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        var gv = ((CpuBuffer)dy).Data;
        var wv = ((CpuBuffer)w).Data;
        var dv = ((CpuBuffer)dx).Data;
        if (ConvImplicit.HandlesBackwardData(g))
        {
            ConvImplicit.BackwardData(g, gv, wv, dv);
            return;
        }
        int rows = g.N * g.OH * g.OW, k = g.PatchSize;
        Fill(dx, 0, (long)g.N * g.H * g.W * g.Cin, 0f);
        if (rows == 0 || k == 0) return;
        ForEachBlock(g, (dcol, l0, l1) =>
        {
            int r = (l1 - l0) * g.OW;
            Sgemm.Run(false, false, r, k, g.Cout, 1f, gv.Array, gv.Offset + (long)l0 * g.OW * g.Cout, g.Cout, wv.Array, wv.Offset, k, 0f, dcol, 0, k, 1, 0, 0, 0);
            Col2ImAdd(g, dcol, dv, l0, l1);
        });
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw) =>
        ConvImplicit.BackwardWeight(g, ((CpuBuffer)x).Data, ((CpuBuffer)dy).Data, ((CpuBuffer)dw).Data);

    /// <summary>
    /// Runs body(col, l0, l1) over blocks of output lines (a line is one (n, oh)) with a pooled
    /// im2col buffer large enough for the block.
    /// </summary>
    private static void ForEachBlock(Conv2dGeometry g, Action<float[], int, int> body)
    {
        int lines = g.N * g.OH;
        long lineFloats = (long)g.OW * g.PatchSize;
        int perBlock = (int)Math.Clamp(ConvBlockFloats / Math.Max(1, lineFloats), 1, lines);
        var col = CpuArrayPool.Shared.Rent(checked((int)(perBlock * lineFloats)));
        try
        {
            for (int l0 = 0; l0 < lines; l0 += perBlock) body(col, l0, Math.Min(lines, l0 + perBlock));
        }
        finally
        {
            CpuArrayPool.Shared.Return(col);
        }
    }

    /// <summary>
    /// Adds the im2col-shaped gradient of output lines [l0, l1) into dx. Each task owns whole input
    /// pixels and gathers the patch entries that read them, so no two tasks write the same element.
    /// </summary>
    private static void Col2ImAdd(Conv2dGeometry g, float[] dcol, CpuFloats dx, int l0, int l1)
    {
        int k = g.PatchSize;
        // Input lines (n, ih) the block can touch: from its first line's top tap to its last line's bottom tap.
        int n0 = l0 / g.OH, oh0 = l0 % g.OH, n1 = (l1 - 1) / g.OH, oh1 = (l1 - 1) % g.OH;
        int lo = n0 * g.H + Math.Clamp(oh0 * g.StrideH - g.PadH, 0, g.H);
        int hi = n1 * g.H + Math.Clamp(oh1 * g.StrideH - g.PadH + g.KH - 1, -1, g.H - 1);
        if (hi < lo) return;
        CpuParallel.For((long)(hi - lo + 1) * g.W, (long)g.KH * g.KW * g.Cin, (s, e) =>
        {
            for (long p = s; p < e; p++)
            {
                int il = lo + (int)(p / g.W), iw = (int)(p % g.W);
                int n = il / g.H, ih = il % g.H;
                var acc = dx.AsSpan((int)(((long)il * g.W + iw) * g.Cin), g.Cin);
                for (int kh = 0; kh < g.KH; kh++)
                {
                    int t = ih + g.PadH - kh;
                    if (t < 0 || t % g.StrideH != 0) continue;
                    int oh = t / g.StrideH, line = n * g.OH + oh;
                    if (oh >= g.OH || line < l0 || line >= l1) continue;
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int u = iw + g.PadW - kw;
                        if (u < 0 || u % g.StrideW != 0 || u / g.StrideW >= g.OW) continue;
                        long row = (long)(line - l0) * g.OW + u / g.StrideW;
                        TensorPrimitives.Add(acc, dcol.AsSpan((int)(row * k + (kh * g.KW + kw) * g.Cin), g.Cin), acc);
                    }
                }
            }
        });
    }
}
