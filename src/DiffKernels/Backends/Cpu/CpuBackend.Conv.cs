using System.Numerics.Tensors;
using DiffKernels.Backends.Cpu.Gemm;
using DiffKernels.Tensors;

namespace DiffKernels.Backends.Cpu;

// Convolutions run as GEMMs over an im2col matrix (one row per output pixel, one column per
// (kh, kw, ci)), built a block of output lines at a time into a pooled buffer so its size stays
// bounded; 1×1 stride-1 unpadded convolutions use the input directly as that matrix.
public sealed partial class CpuBackend
{
    /// <summary>
    /// Upper bound, in floats, of one block of the im2col matrix (a block holds at least one output
    /// line); tests shrink it to cover blocking on small shapes.
    /// </summary>
    internal static int ConvBlockFloats { get; set; } = 1 << 22;

    /// <inheritdoc/>
    public void Conv2dForward(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer w, DeviceBuffer? bias, DeviceBuffer y)
    {
        var xv = ((CpuBuffer)x).Data;
        var wv = ((CpuBuffer)w).Data;
        var yv = ((CpuBuffer)y).Data;
        int rows = g.N * g.OH * g.OW, k = g.PatchSize;
        if (rows == 0 || g.Cout == 0) return;
        float beta = 0f;
        if (bias != null)
        {
            CopyStrided(bias, 0, [0, 1], y, 0, [g.Cout, 1], new Shape(rows, g.Cout));
            beta = 1f;
        }
        if (g.IsPointwise)
        {
            Sgemm.Run(false, true, rows, g.Cout, k, 1f, xv, 0, k, wv, 0, k, beta, yv, 0, g.Cout, 1, 0, 0, 0);
            return;
        }
        ForEachBlock(g, (col, l0, l1) =>
        {
            Im2Col(g, xv, col, l0, l1);
            int r = (l1 - l0) * g.OW;
            Sgemm.Run(false, true, r, g.Cout, k, 1f, col, 0, k, wv, 0, k, beta, yv, (long)l0 * g.OW * g.Cout, g.Cout, 1, 0, 0, 0);
        });
    }

    /// <inheritdoc/>
    public void Conv2dBackwardData(Conv2dGeometry g, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx)
    {
        var gv = ((CpuBuffer)dy).Data;
        var wv = ((CpuBuffer)w).Data;
        var dv = ((CpuBuffer)dx).Data;
        int rows = g.N * g.OH * g.OW, k = g.PatchSize;
        if (g.IsPointwise)
        {
            Sgemm.Run(false, false, rows, k, g.Cout, 1f, gv, 0, g.Cout, wv, 0, k, 0f, dv, 0, k, 1, 0, 0, 0);
            return;
        }
        Fill(dx, 0, (long)g.N * g.H * g.W * g.Cin, 0f);
        if (rows == 0 || k == 0) return;
        ForEachBlock(g, (dcol, l0, l1) =>
        {
            int r = (l1 - l0) * g.OW;
            Sgemm.Run(false, false, r, k, g.Cout, 1f, gv, (long)l0 * g.OW * g.Cout, g.Cout, wv, 0, k, 0f, dcol, 0, k, 1, 0, 0, 0);
            Col2ImAdd(g, dcol, dv, l0, l1);
        });
    }

    /// <inheritdoc/>
    public void Conv2dBackwardWeight(Conv2dGeometry g, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw)
    {
        var xv = ((CpuBuffer)x).Data;
        var gv = ((CpuBuffer)dy).Data;
        var dv = ((CpuBuffer)dw).Data;
        int rows = g.N * g.OH * g.OW, k = g.PatchSize;
        if (g.IsPointwise || rows == 0)
        {
            // With no output pixels the k = 0 product clears dw.
            Sgemm.Run(true, false, g.Cout, k, rows, 1f, gv, 0, g.Cout, xv, 0, k, 0f, dv, 0, k, 1, 0, 0, 0);
            return;
        }
        bool first = true;
        ForEachBlock(g, (col, l0, l1) =>
        {
            Im2Col(g, xv, col, l0, l1);
            int r = (l1 - l0) * g.OW;
            Sgemm.Run(true, false, g.Cout, k, r, 1f, gv, (long)l0 * g.OW * g.Cout, g.Cout, col, 0, k, first ? 0f : 1f, dv, 0, k, 1, 0, 0, 0);
            first = false;
        });
    }

    /// <summary>
    /// Runs body(col, l0, l1) over blocks of output lines (a line is one (n, oh)) with a pooled
    /// im2col buffer large enough for the block.
    /// </summary>
    private static void ForEachBlock(Conv2dGeometry g, Action<float[], int, int> body)
    {
        int lines = g.N * g.OH;
        long lineFloats = (long)g.OW * g.PatchSize;
        int perBlock = (int)Math.Clamp(ConvBlockFloats / Math.Max(1, lineFloats), 1, lines);
        var col = CpuArrayPool.Rent(checked((int)(perBlock * lineFloats)));
        try
        {
            for (int l0 = 0; l0 < lines; l0 += perBlock) body(col, l0, Math.Min(lines, l0 + perBlock));
        }
        finally
        {
            CpuArrayPool.Return(col);
        }
    }

    /// <summary>Writes the im2col rows of output lines [l0, l1) into col (row-major, PatchSize columns).</summary>
    private static void Im2Col(Conv2dGeometry g, float[] x, float[] col, int l0, int l1)
    {
        int k = g.PatchSize, rowLen = g.KW * g.Cin;
        CpuParallel.For((long)(l1 - l0) * g.OW, k, (s, e) =>
        {
            for (long row = s; row < e; row++)
            {
                int line = l0 + (int)(row / g.OW), ow = (int)(row % g.OW);
                int n = line / g.OH, oh = line % g.OH;
                var dst = col.AsSpan((int)(row * k), k);
                int iw0 = ow * g.StrideW - g.PadW;
                // Along kw the patch reads consecutive pixels of one input row: copy the in-range run at once.
                int kwLo = Math.Max(0, -iw0), kwHi = Math.Min(g.KW, g.W - iw0);
                for (int kh = 0; kh < g.KH; kh++)
                {
                    int ih = oh * g.StrideH - g.PadH + kh;
                    var seg = dst.Slice(kh * rowLen, rowLen);
                    if (ih < 0 || ih >= g.H || kwLo >= kwHi)
                    {
                        seg.Clear();
                        continue;
                    }
                    seg[..(kwLo * g.Cin)].Clear();
                    long src = (((long)n * g.H + ih) * g.W + iw0 + kwLo) * g.Cin;
                    x.AsSpan((int)src, (kwHi - kwLo) * g.Cin).CopyTo(seg[(kwLo * g.Cin)..]);
                    seg[(kwHi * g.Cin)..].Clear();
                }
            }
        });
    }

    /// <summary>
    /// Adds the im2col-shaped gradient of output lines [l0, l1) into dx. Each task owns whole input
    /// pixels and gathers the patch entries that read them, so no two tasks write the same element.
    /// </summary>
    private static void Col2ImAdd(Conv2dGeometry g, float[] dcol, float[] dx, int l0, int l1)
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
