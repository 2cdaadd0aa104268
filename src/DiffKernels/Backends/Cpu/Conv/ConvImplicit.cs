using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DiffKernels.Backends.Cpu.Gemm;

namespace DiffKernels.Backends.Cpu.Conv;

/// <summary>
/// Convolutions as implicit GEMMs over NHWC data, with no im2col matrix in memory. Forward: output
/// pixels are GEMM rows whose patch is read in place, one run of Cin channels per kernel tap (taps
/// in the padding read a zero run), against the weight packed once into the micro-kernel's B panels;
/// bias is added as the tiles are stored. Data gradient at stride 1: the forward of dy with the
/// weight flipped in space and transposed in channels, padded by K − 1 − P. Weight gradient:
/// dW = dyᵀ·im2col(x) over fixed chunks of pixels whose partial sums are added in order; the
/// im2col rows are read from x in place when Cin is a multiple of the micro-kernel width, packed
/// otherwise. Every output element sums in a fixed
/// order, whatever the number of workers.
/// </summary>
internal static unsafe class ConvImplicit
{
    private const int MR = Sgemm.MR;

    /// <summary>True when <see cref="BackwardData"/> handles the geometry (stride 1, padding below the kernel size).</summary>
    public static bool HandlesBackwardData(Conv2dGeometry g) =>
        g.StrideH == 1 && g.StrideW == 1 && g.PadH < g.KH && g.PadW < g.KW;

    /// <summary>y = conv(x, w) + bias, y overwritten, with the micro-kernel <see cref="Sgemm.Path"/> selects.</summary>
    public static void Forward(Conv2dGeometry g, CpuFloats x, CpuFloats w, CpuFloats? bias, CpuFloats y)
    {
        switch (PathFor(g.Cout, g.Cout))
        {
            case GemmPath.Avx512: Forward<Avx512Kernel>(g, x, w, bias, y); break;
            case GemmPath.Avx2: Forward<Avx2Kernel>(g, x, w, bias, y); break;
            default: Forward<PortableKernel>(g, x, w, bias, y); break;
        }
    }

    private static void Forward<TK>(Conv2dGeometry g, CpuFloats x, CpuFloats w, CpuFloats? bias, CpuFloats y) where TK : IMicroKernel
    {
        int nr = TK.NR;
        long rows = (long)g.N * g.OH * g.OW;
        int cout = g.Cout, k = g.PatchSize, segments = g.KH * g.KW, len = g.Cin;
        if (rows == 0 || cout == 0) return;
        if (k == 0)
        {
            for (long r = 0; r < rows; r++)
                if (bias == null) y.AsSpan((int)(r * cout), cout).Clear();
                else bias.Value.AsSpan(0, cout).CopyTo(y.AsSpan((int)(r * cout), cout));
            return;
        }
        int panels = (cout + nr - 1) / nr;
        var wp = CpuArrayPool.Shared.Rent(panels * nr * k);
        var bp = CpuArrayPool.Shared.Rent(panels * nr);
        var zero = CpuArrayPool.Shared.Rent(len);
        try
        {
            bp.AsSpan(0, panels * nr).Clear();
            if (bias != null) bias.Value.AsSpan(0, cout).CopyTo(bp);
            zero.AsSpan(0, len).Clear();
            fixed (float* pw = w, pwp = wp)
                SgemmPack.PackB<TK>(true, pw, k, 0, k, 0, cout, pwp);
            long mPanels = (rows + MR - 1) / MR;
            var taps = Taps(g);
            CpuParallel.For(mPanels, (long)MR * cout * k, (s, e) =>
            {
                float** table = stackalloc float*[segments * MR];
                float* edge = stackalloc float[MR * Sgemm.MaxNR];
                fixed (float* px = x, py = y, pwp = wp, pbp = bp, pz = zero)
                {
                    for (long panel = s; panel < e; panel++)
                    {
                        long i0 = panel * MR;
                        int mr = (int)Math.Min(MR, rows - i0);
                        FillRowTable(g, taps, px, pz, i0, mr, table);
                        for (int jp = 0; jp < panels; jp++)
                        {
                            int jr = jp * nr, cols = Math.Min(nr, cout - jr);
                            float* bPanel = pwp + (long)jr * k;
                            float* biasPanel = bias == null ? null : pbp + jr;
                            float* c = py + i0 * cout + jr;
                            if (mr == MR && cols == nr)
                            {
                                TK.RunRows(segments, len, table, bPanel, c, cout, biasPanel);
                                continue;
                            }
                            TK.RunRows(segments, len, table, bPanel, edge, nr, biasPanel);
                            for (int r = 0; r < mr; r++)
                                for (int j = 0; j < cols; j++) c[r * cout + j] = edge[r * nr + j];
                        }
                    }
                }
            });
        }
        finally
        {
            CpuArrayPool.Shared.Return(wp);
            CpuArrayPool.Shared.Return(bp);
            CpuArrayPool.Shared.Return(zero);
        }
    }

    /// <summary>
    /// The micro-kernel for a GEMM with <paramref name="columns"/> output columns whose B rows come in runs of
    /// <paramref name="run"/> floats: the 16-wide AVX2 kernel instead of the 32-wide AVX-512 one when it pads
    /// fewer columns or, at equal padding, can read the runs in place. Where 512-bit units are split in two (Zen 4)
    /// both kernels have the same peak, so the 16 and 48 channels of small U-Nets lose no half-empty tiles.
    /// </summary>
    private static GemmPath PathFor(int columns, int run)
    {
        var path = Sgemm.Path;
        if (path != GemmPath.Avx512) return path;
        int pad16 = (columns + 15) / 16 * 16, pad32 = (columns + 31) / 32 * 32;
        bool runs16 = run % 16 == 0 && run % 32 != 0;
        return pad16 < pad32 || (pad16 == pad32 && runs16) ? GemmPath.Avx2 : GemmPath.Avx512;
    }

    /// <summary>dx from dy at stride 1 (see <see cref="HandlesBackwardData"/>), dx overwritten.</summary>
    public static void BackwardData(Conv2dGeometry g, CpuFloats dy, CpuFloats w, CpuFloats dx)
    {
        // dx[n,ih,iw,ci] = Σ dy[n, ih + P − kh, iw + P − kw, co]·w[co,kh,kw,ci]: a convolution of dy
        // with w'[ci, KH−1−kh, KW−1−kw, co] = w[co, kh, kw, ci] and padding K − 1 − P.
        int taps = g.KH * g.KW;
        var flipped = CpuArrayPool.Shared.Rent(g.Cout * g.PatchSize);
        try
        {
            for (int co = 0; co < g.Cout; co++)
                for (int t = 0; t < taps; t++)
                {
                    int kh = t / g.KW, kw = t % g.KW, ft = (g.KH - 1 - kh) * g.KW + (g.KW - 1 - kw);
                    for (int ci = 0; ci < g.Cin; ci++)
                        flipped[((long)ci * taps + ft) * g.Cout + co] = w[((long)co * taps + t) * g.Cin + ci];
                }
            var back = new Conv2dGeometry(g.N, g.OH, g.OW, g.Cout, g.Cin, g.KH, g.KW, 1, 1, g.KH - 1 - g.PadH, g.KW - 1 - g.PadW);
            Forward(back, dy, CpuFloats.Whole(flipped), null, dx);
        }
        finally
        {
            CpuArrayPool.Shared.Return(flipped);
        }
    }

    /// <summary>dw = dyᵀ·im2col(x), dw overwritten, with the micro-kernel <see cref="Sgemm.Path"/> selects.</summary>
    public static void BackwardWeight(Conv2dGeometry g, CpuFloats x, CpuFloats dy, CpuFloats dw)
    {
        switch (PathFor(g.PatchSize, g.Cin))
        {
            case GemmPath.Avx512: BackwardWeight<Avx512Kernel>(g, x, dy, dw); break;
            case GemmPath.Avx2: BackwardWeight<Avx2Kernel>(g, x, dy, dw); break;
            default: BackwardWeight<PortableKernel>(g, x, dy, dw); break;
        }
    }

    /// <summary>
    /// Output pixels per chunk of the weight gradient: a multiple of 1,024 set by the shape alone, never by the
    /// worker count, and large enough that at most 16 partial sums are reduced.
    /// </summary>
    private static int WeightGradChunk(long pixels) => (int)Math.Max(1024, (pixels + 16 * 1024 - 1) / (16 * 1024) * 1024);

    private static void BackwardWeight<TK>(Conv2dGeometry g, CpuFloats x, CpuFloats dy, CpuFloats dw) where TK : IMicroKernel
    {
        int m = g.Cout, n = g.PatchSize;
        long pixels = (long)g.N * g.OH * g.OW;
        if (m == 0 || n == 0) return;
        if (pixels == 0)
        {
            dw.AsSpan(0, m * n).Clear();
            return;
        }
        // The sum over pixels is cut into fixed chunks, each a whole small GEMM on one worker into its
        // own partial dW; the partials are then added in chunk order. Every worker thus gets all of
        // M and N (no padding or balance loss from splitting 32 or 64 output channels).
        int chunk = WeightGradChunk(pixels);
        int chunks = (int)((pixels + chunk - 1) / chunk);
        var taps = Taps(g);
        // When every B panel lies inside one tap's channel run, the im2col rows can be read from x in place,
        // saving the nine copies of x a packed pass writes. Each depth step of the gathered kernel loads a new
        // cache line of x (pixels are Cin floats apart), which the 6×32 AVX-512 kernel hides; the 6×16 AVX2
        // kernel, with half the FMAs per line, stalls on those loads from 64 channels up, and there the packed
        // panels measured 15–30% faster on one AVX2 core (3×3 convs at 8×8 to 32×32, batch 64).
        bool gather = g.Cin % TK.NR == 0 && !(typeof(TK) == typeof(Avx2Kernel) && g.Cin >= 64);
        // The gathered path writes whole MR-row tiles, so its partials carry Cout rounded up to MR rows.
        int rowsPadded = gather ? (m + MR - 1) / MR * MR : m;
        long size = (long)m * n, stride = (long)rowsPadded * n;
        if (chunks == 1 && !gather)
        {
            fixed (float* px = x, pdy = dy, pdw = dw)
                WeightGradChunkGemm<TK>(g, taps, px, pdy, 0, (int)pixels, pdw);
            return;
        }
        var partial = CpuArrayPool.Shared.Rent(checked((int)(chunks * stride)));
        var zero = CpuArrayPool.Shared.Rent(g.Cin);
        try
        {
            zero.AsSpan(0, g.Cin).Clear();
            CpuParallel.For(chunks, (long)m * n * chunk, (s, e) =>
            {
                fixed (float* px = x, pdy = dy, pp = partial, pz = zero)
                    for (long c = s; c < e; c++)
                    {
                        long p0 = c * chunk;
                        int count = (int)Math.Min(chunk, pixels - p0);
                        if (gather) WeightGradChunkGather<TK>(g, taps, px, pz, pdy, p0, count, pp + c * stride);
                        else WeightGradChunkGemm<TK>(g, taps, px, pdy, p0, count, pp + c * stride);
                    }
            });
            CpuParallel.For(size, chunks, (s, e) =>
            {
                for (long i = s; i < e; i++)
                {
                    float v = partial[i];
                    for (int c = 1; c < chunks; c++) v += partial[c * stride + i];
                    dw[i] = v;
                }
            });
        }
        finally
        {
            CpuArrayPool.Shared.Return(partial);
            CpuArrayPool.Shared.Return(zero);
        }
    }

    /// <summary>
    /// Pixels per depth block of the gathered weight gradient: long enough that each micro-tile's store is rare;
    /// one panel's B rows (512 × NR floats) are re-read from L2, which keeps up with the FMAs.
    /// </summary>
    private const int GatherKC = 512;

    /// <summary>Output channels per packed dyᵀ block, so that block fits the thread's A buffer (MC × KC).</summary>
    private const int GatherMC = Sgemm.MC * Sgemm.KC / GatherKC / MR * MR;

    /// <summary>
    /// dw = dy[p0..p0+count]ᵀ·im2col(x)[p0..p0+count] on the calling thread, dw overwritten with
    /// Cout rounded up to MR rows (the extra rows hold zeros times x). B rows come straight from x through
    /// a table of per-tap pixel pointers; only dyᵀ is packed. Needs Cin a multiple of NR.
    /// </summary>
    private static void WeightGradChunkGather<TK>(Conv2dGeometry g, (int Dh, int Dw)[] taps, float* x, float* zero, float* dy, long p0, int count, float* dw)
        where TK : IMicroKernel
    {
        int nr = TK.NR, m = g.Cout, n = g.PatchSize, cin = g.Cin;
        bool avx = Sgemm.Avx2Supported && typeof(TK) != typeof(PortableKernel);
        float* wa = Sgemm.PackABuffer();
        float** rows = RowTable(taps.Length * GatherKC);
        for (int pc = 0; pc < count; pc += GatherKC)
        {
            int kc = Math.Min(GatherKC, count - pc);
            TapRuns(g, taps, x, zero, p0 + pc, kc, rows, kc);
            for (int ic = 0; ic < m; ic += GatherMC)
            {
                int mc = Math.Min(GatherMC, m - ic);
                // dy is pixels × Cout: read as the k × m storage of A = dyᵀ (rows past Cout packed as zeros).
                SgemmPack.PackA(true, dy + (p0 + pc) * m, m, ic, mc, 0, kc, wa, avx);
                for (int t = 0; t < taps.Length; t++)
                    for (int c0 = 0; c0 < cin; c0 += nr)
                        for (int ir = 0; ir < mc; ir += MR)
                            TK.RunGatherB(kc, wa + (long)ir * kc, rows + t * kc, c0, dw + (long)(ic + ir) * n + t * cin + c0, n, pc > 0);
            }
        }
    }

    /// <summary>dw = dy[p0..p0+count]ᵀ·im2col(x)[p0..p0+count] on the calling thread, dw overwritten.</summary>
    private static void WeightGradChunkGemm<TK>(Conv2dGeometry g, (int Dh, int Dw)[] taps, float* x, float* dy, long p0, int count, float* dw)
        where TK : IMicroKernel
    {
        int nr = TK.NR, m = g.Cout, n = g.PatchSize;
        bool avx = Sgemm.Avx2Supported && typeof(TK) != typeof(PortableKernel);
        float* wa = Sgemm.PackABuffer();
        float* wb = Sgemm.PackBBuffer();
        for (int cb = 0; cb < n; cb += Sgemm.NC)
        {
            int ncb = Math.Min(Sgemm.NC, n - cb);
            for (int pc = 0; pc < count; pc += Sgemm.KC)
            {
                int kc = Math.Min(Sgemm.KC, count - pc);
                PackPatches<TK>(g, taps, x, p0 + pc, kc, cb, ncb, wb);
                for (int ic = 0; ic < m; ic += Sgemm.MC)
                {
                    int mc = Math.Min(Sgemm.MC, m - ic);
                    // dy is pixels × Cout: read as the k × m storage of A = dyᵀ.
                    SgemmPack.PackA(true, dy + (p0 + pc) * m, m, ic, mc, 0, kc, wa, avx);
                    Sgemm.Macro<TK>(wa, mc, wb, 0, (ncb + nr - 1) / nr, ncb, kc, dw + (long)ic * n + cb, n, 1f, pc == 0 ? 0f : 1f);
                }
            }
        }
    }

    [ThreadStatic] private static nint[]? _rowTable;

    /// <summary>This thread's pinned table of at least <paramref name="length"/> row pointers (too large for the stack with big kernels).</summary>
    private static float** RowTable(int length)
    {
        if (_rowTable == null || _rowTable.Length < length) _rowTable = GC.AllocateUninitializedArray<nint>(length, pinned: true);
        return (float**)Unsafe.AsPointer(ref _rowTable[0]);
    }

    /// <summary>
    /// Points table[t·MR + r] at the Cin-run of tap t for output pixel i0 + r, or at the zero run
    /// when the tap falls in the padding or the row is past the last pixel.
    /// </summary>
    private static void FillRowTable(Conv2dGeometry g, (int Dh, int Dw)[] taps, float* x, float* zero, long i0, int mr, float** table)
    {
        TapRuns(g, taps, x, zero, i0, mr, table, MR);
        for (int r = mr; r < MR; r++)
            for (int t = 0; t < taps.Length; t++) table[t * MR + r] = zero;
    }

    /// <summary>
    /// Points dst[t·stride + k] at the Cin-run of tap t for output pixel first + k (k &lt; count), or at
    /// <paramref name="zero"/> (which may be null) when the tap falls in the padding.
    /// </summary>
    private static void TapRuns(Conv2dGeometry g, (int Dh, int Dw)[] taps, float* x, float* zero, long first, int count, float** dst, int stride)
    {
        // One division for the first pixel, then a walk: small-channel layers spend as long here as in the kernel.
        int ow = (int)(first % g.OW);
        long line = first / g.OW;
        int oh = (int)(line % g.OH), nb = (int)(line / g.OH);
        for (int k = 0; k < count; k++)
        {
            int ih0 = oh * g.StrideH - g.PadH, iw0 = ow * g.StrideW - g.PadW;
            float* image = x + (long)nb * g.H * g.W * g.Cin;
            for (int t = 0; t < taps.Length; t++)
            {
                int ih = ih0 + taps[t].Dh, iw = iw0 + taps[t].Dw;
                dst[t * stride + k] = (uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W
                    ? zero
                    : image + ((long)ih * g.W + iw) * g.Cin;
            }
            if (++ow == g.OW)
            {
                ow = 0;
                if (++oh == g.OH)
                {
                    oh = 0;
                    nb++;
                }
            }
        }
    }

    /// <summary>The kernel offsets (kh, kw) of each tap, in weight order; divisions kept out of the inner loops.</summary>
    private static (int Dh, int Dw)[] Taps(Conv2dGeometry g)
    {
        var taps = new (int, int)[g.KH * g.KW];
        for (int t = 0; t < taps.Length; t++) taps[t] = (t / g.KW, t % g.KW);
        return taps;
    }

    /// <summary>
    /// Packs im2col(x)[pixels p0..p0+kc, columns c0..c0+nc] into NR-column panels (panel j at dst + j·NR·kc),
    /// reading x directly; columns past c0 + nc and taps in the padding are zeros.
    /// </summary>
    private static void PackPatches<TK>(Conv2dGeometry g, (int Dh, int Dw)[] taps, float* x, long p0, int kc, int c0, int nc, float* dst)
        where TK : IMicroKernel
    {
        int nr = TK.NR, cin = g.Cin, panels = (nc + nr - 1) / nr;
        bool wholeRuns = cin % nr == 0 && nc % nr == 0;
        // Per panel column: its tap (−1 past the last column) and channel, so the pixel loop does no division.
        int* colTap = stackalloc int[panels * nr];
        int* colCi = stackalloc int[panels * nr];
        for (int j = 0; j < panels * nr; j++)
        {
            int col = c0 + j;
            (colTap[j], colCi[j]) = j < nc ? (col / cin, col % cin) : (-1, 0);
        }
        float** tapRow = stackalloc float*[taps.Length];
        for (int p = 0; p < kc; p++)
        {
            TapRuns(g, taps, x, null, p0 + p, 1, tapRow, 1);
            for (int jp = 0; jp < panels; jp++)
            {
                float* d = dst + (long)jp * nr * kc + p * nr;
                int first = jp * nr;
                if (wholeRuns)
                {
                    // The panel's columns lie in one tap's channel run: one vector copy or clear.
                    float* src = tapRow[colTap[first]];
                    if (src == null)
                        for (int v = 0; v < nr; v += 8) Vector256.Store(Vector256<float>.Zero, d + v);
                    else
                        for (int v = 0; v < nr; v += 8) Vector256.Store(Vector256.Load(src + colCi[first] + v), d + v);
                    continue;
                }
                for (int j = 0; j < nr; j++)
                {
                    int t = colTap[first + j];
                    float* src = t < 0 ? null : tapRow[t];
                    d[j] = src == null ? 0f : src[colCi[first + j]];
                }
            }
        }
    }
}
