using DiffKernels.Backends;
using DiffKernels.Gpu;
using DiffKernels.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// Split-K in one launch (<see cref="GemmSplitK"/>): the last group of each output tile sums the partials in split
/// order, so a split product equals, bit for bit, what the two-launch path gave: the k-slices' partials, then a
/// combine that sums them from 0 in split order and applies the epilogue (α/β; dw and db). Here the kernels run on
/// an emulator accelerator of the fixture's own, with the backend's device configuration (so its launch plan is the
/// backend's), at chosen splits over several tiles, and through the emulator backends at the splits their plan
/// picks (one launch each); the GEMM's reference launches each k-slice unsplit and combines on the host. Every launch
/// must leave the tile counters at zero, which a second launch on the same counters would otherwise expose.
/// </summary>
public class SplitKTests
{
    private Context? _context;
    private Accelerator? _acc;
    private LaunchPlan? _plan;
    private GpuBackend? _tf32;

    [OneTimeSetUp]
    public void Open()
    {
        _context = Context.Create(b => b.Optimize(OptimizationLevel.O2).EnableAlgorithms().CPU(GpuBackend.EmulatorDevice));
        _acc = _context.Devices.Single().CreateAccelerator(_context);
        _plan = new LaunchPlan(_acc);
        _tf32 = GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Tf32);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _tf32?.Dispose();
        _acc?.Dispose();
        _context?.Dispose();
    }

    private Accelerator Acc => _acc!;

    // ---- GEMM -------------------------------------------------------------------------------------------------

    /// <summary>C = α·op(A)·op(B) + β·C, m × n over k, A and B stored row-major without padding.</summary>
    public sealed record Product(int M, int N, int K, bool TransA, bool TransB, float Alpha, float Beta)
    {
        public int Lda => TransA ? M : K;
        public int Ldb => TransB ? K : N;

        /// <summary>Offset of op(A)'s column <paramref name="p"/> and of op(B)'s row <paramref name="p"/>: where k-slice p.. starts.</summary>
        public (int A, int B) SliceOffsets(int p) => (TransA ? p * Lda : p, TransB ? p : p * Ldb);

        public override string ToString() => $"{M}x{N}x{K} {(TransA ? "T" : "N")}{(TransB ? "T" : "N")} α={Alpha} β={Beta}";
    }

    /// <summary>The GEMM kernel's arithmetic (the tensor-core ones as their C# twins).</summary>
    public enum Arithmetic { Fp32, Tf32, Tf32x3 }

    private Action<KernelConfig, MatA, MatB, SplitKC<DenseC>, int, int, int, int> GemmKernel(Arithmetic arithmetic, bool large) => (arithmetic, large) switch
    {
        (Arithmetic.Fp32, false) => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm<GemmSmall>),
        (Arithmetic.Fp32, true) => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm<GemmLarge>),
        (Arithmetic.Tf32, false) => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmSmall, MmaTwin>),
        (Arithmetic.Tf32, true) => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.GemmTf32<GemmLarge, MmaTwin>),
        (Arithmetic.Tf32x3, false) => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmSmall, MmaTwin>),
        _ => Acc.LoadStreamKernel<MatA, MatB, SplitKC<DenseC>, int, int, int, int>(GemmKernels.Gemm3xTf32<GemmLarge, MmaTwin>),
    };

    /// <summary>Tile counters as the backend keeps them: zero between launches.</summary>
    private MemoryBuffer1D<int, Stride1D.Dense> Counters(long tiles)
    {
        var counters = Acc.Allocate1D<int>(tiles);
        counters.MemSetToZero();
        return counters;
    }

    private static float[] Uniform(int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static KernelConfig Grid(int rows, int cols, int depth, (int Bm, int Bn, int Threads) shape) =>
        new(new Index3D((cols + shape.Bn - 1) / shape.Bn, (rows + shape.Bm - 1) / shape.Bm, depth), new Index3D(shape.Threads, 1, 1));

    private static int Aligned(int offset, int ld) => offset % 4 == 0 && ld % 4 == 0 ? 1 : 0;

    /// <summary>
    /// One launch of the product's k range [p0, p0 + k) as <paramref name="splits"/> slices of <paramref name="chunk"/>
    /// (1 and 0: unsplit) on C = <paramref name="c0"/>; returns C, the workspace and the counters after it.
    /// </summary>
    private (float[] C, float[] Ws, int[] Counters) LaunchGemm(Arithmetic arithmetic, bool large, Product p, float[] a, float[] b, float[] c0,
        int p0, int k, float alpha, float beta, int splits, int chunk, MemoryBuffer1D<int, Stride1D.Dense> counters)
    {
        using var da = Acc.Allocate1D(a);
        using var db = Acc.Allocate1D(b);
        using var dc = Acc.Allocate1D(c0);
        using var ws = Acc.Allocate1D<float>(Math.Max(1, splits * p.M * p.N));
        var (offA, offB) = p.SliceOffsets(p0);
        var ma = new MatA { Data = da.View, Offset = offA, Ld = p.Lda, Trans = p.TransA ? 1 : 0, Aligned = Aligned(offA, p.Lda) };
        var mb = new MatB { Data = db.View, Offset = offB, Ld = p.Ldb, Trans = p.TransB ? 1 : 0, Aligned = Aligned(offB, p.Ldb) };
        var c = new SplitKC<DenseC>
        {
            Out = new DenseC { Data = dc.View, Ld = p.N, Alpha = alpha, Beta = beta },
            Ws = ws.View, Counters = counters.View, Rows = p.M, Cols = p.N, Splits = splits,
        };
        GemmKernel(arithmetic, large)(Grid(p.M, p.N, splits, LaunchPlan.GemmShape(large)), ma, mb, c, p.M, p.N, k, chunk);
        Acc.Synchronize();
        return (dc.GetAsArray1D(), ws.GetAsArray1D(), counters.GetAsArray1D());
    }

    /// <summary>
    /// The two-launch path's result: each k-slice of <paramref name="chunk"/> launched unsplit (α = 1, β = 0) for its
    /// partial, then the combine on the host, Σ from 0 in split order and C = α·Σ (+ β·C₀ when β ≠ 0).
    /// </summary>
    private (float[] C, float[][] Partials) TwoLaunches(Arithmetic arithmetic, bool large, Product p, float[] a, float[] b, float[] c0, int chunk)
    {
        using var counters = Counters(1);
        var partials = new List<float[]>();
        for (int p0 = 0; p0 < p.K; p0 += chunk)
            partials.Add(LaunchGemm(arithmetic, large, p, a, b, new float[p.M * p.N], p0, Math.Min(chunk, p.K - p0), 1f, 0f, 1, 0, counters).C);
        var c = new float[p.M * p.N];
        for (int i = 0; i < c.Length; i++)
        {
            float s = 0f;
            foreach (var partial in partials) s += partial[i];
            c[i] = p.Beta == 0f ? p.Alpha * s : p.Alpha * s + p.Beta * c0[i];
        }
        return (c, partials.ToArray());
    }

    private static IEnumerable<TestCaseData> ChosenSplits()
    {
        // Off the tile edges in one tile; 2 × 2 tiles of 64 × 64 (and of 128 × 128) each split; exact tiles at one
        // slab per split; the tensor-core twins.
        (Arithmetic, bool, Product, int)[] cases =
        [
            (Arithmetic.Fp32, false, new(37, 19, 100, false, false, 1f, 0f), 32),
            (Arithmetic.Fp32, false, new(100, 70, 136, true, false, 0.5f, -2f), 24),
            (Arithmetic.Fp32, true, new(130, 140, 48, false, true, 1f, 0.25f), 16),
            (Arithmetic.Fp32, false, new(64, 64, 40, true, true, -1.5f, 0f), 8),
            (Arithmetic.Tf32, false, new(37, 19, 100, false, false, 1f, 0f), 32),
            (Arithmetic.Tf32x3, false, new(70, 20, 72, true, false, 2f, 1f), 24),
        ];
        foreach (var (arithmetic, large, p, chunk) in cases)
            yield return new TestCaseData(arithmetic, large, p, chunk).SetArgDisplayNames($"{arithmetic} {(large ? "128x128" : "64x64")}", p.ToString(), $"chunk {chunk}");
    }

    [TestCaseSource(nameof(ChosenSplits))]
    public void ASplitGemmEqualsItsSlicesCombinedInSplitOrder(Arithmetic arithmetic, bool large, Product p, int chunk)
    {
        float[] a = Uniform(p.M * p.K, 1), b = Uniform(p.K * p.N, 2), c0 = Uniform(p.M * p.N, 3);
        var (expected, partials) = TwoLaunches(arithmetic, large, p, a, b, c0, chunk);
        int splits = partials.Length;
        Assert.That(splits, Is.GreaterThanOrEqualTo(3));
        using var counters = Counters(LaunchPlan.GemmTiles(p.M, p.N, large));
        for (int run = 0; run < 2; run++)
        {
            var (c, ws, left) = LaunchGemm(arithmetic, large, p, a, b, c0, 0, p.K, p.Alpha, p.Beta, splits, chunk, counters);
            Assert.That(c, Is.EqualTo(expected), $"launch {run + 1}: C bit for bit");
            Assert.That(left, Is.All.Zero, $"launch {run + 1}: the tile counters are zero again");
            for (int z = 0; z < splits; z++)
                Assert.That(ws.AsSpan(z * p.M * p.N, p.M * p.N).ToArray(), Is.EqualTo(partials[z]), $"partial {z}: the k-slice's product");
        }
        if (arithmetic == Arithmetic.Fp32) AssertNearExact(p, a, b, c0, expected);
    }

    /// <summary>Within FP32's worst-case rounding of the exact product: the reference computes a product at all.</summary>
    private static void AssertNearExact(Product p, float[] a, float[] b, float[] c0, float[] c)
    {
        for (int i = 0; i < p.M; i++)
            for (int j = 0; j < p.N; j++)
            {
                double sum = 0, abs = 0;
                for (int q = 0; q < p.K; q++)
                {
                    double term = (double)(p.TransA ? a[q * p.Lda + i] : a[i * p.Lda + q]) * (p.TransB ? b[j * p.Ldb + q] : b[q * p.Ldb + j]);
                    sum += term;
                    abs += Math.Abs(term);
                }
                double exact = p.Alpha * sum + p.Beta * c0[i * p.N + j];
                double bound = (p.K + 16) * Math.ScaleB(Math.Abs(p.Alpha) * abs + Math.Abs(p.Beta * c0[i * p.N + j]), -24);
                Assert.That(c[i * p.N + j], Is.EqualTo(exact).Within(bound), $"C[{i}, {j}] of {p}");
            }
    }

    private static IEnumerable<TestCaseData> PlannedSplits()
    {
        // batch = 1 products of one and of two 64 × 64 tiles, β = 0 and β ≠ 0, at FP32 and TF32.
        foreach (var arithmetic in new[] { Arithmetic.Fp32, Arithmetic.Tf32 })
        {
            foreach (var p in new Product[] { new(10, 12, 224, false, false, 1f, 0f), new(70, 20, 300, true, false, 0.5f, -2f), new(9, 33, 130, false, true, 1f, 1f) })
                yield return new TestCaseData(arithmetic, p).SetArgDisplayNames(arithmetic.ToString(), p.ToString());
        }
    }

    [TestCaseSource(nameof(PlannedSplits))]
    public void TheBackendsSplitGemmEqualsItsSlicesCombinedInSplitOrder(Arithmetic arithmetic, Product p)
    {
        bool large = _plan!.GemmLarge(p.M, p.N);
        var (splits, chunk) = _plan.SplitK(LaunchPlan.GemmTiles(p.M, p.N, large), p.K);
        Assert.That(splits, Is.GreaterThan(1), "the plan splits this product");
        float[] a = Uniform(p.M * p.K, 4), b = Uniform(p.K * p.N, 5), c0 = Uniform(p.M * p.N, 6);
        var gpu = arithmetic == Arithmetic.Fp32 ? Emulator.Backend : _tf32!;
        long launches = gpu.KernelLaunches;
        var got = OnDevice(gpu, [a, b, c0], d =>
            ((IBackend)gpu).Gemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, d[0], 0, p.Lda, d[1], 0, p.Ldb, p.Beta, d[2], 0, p.N, 1, 0, 0, 0), 2);
        Assert.That(gpu.KernelLaunches - launches, Is.EqualTo(1), "one launch");
        Assert.That(got[0], Is.EqualTo(TwoLaunches(arithmetic, large, p, a, b, c0, chunk).C));
    }

    /// <summary>Uploads <paramref name="inputs"/>, runs <paramref name="op"/> on them, returns the inputs numbered <paramref name="results"/> after it.</summary>
    private static float[][] OnDevice(IBackend be, float[][] inputs, Action<DeviceBuffer[]> op, params int[] results)
    {
        var buffers = inputs.Select(x => be.Allocate(x.Length)).ToArray();
        try
        {
            for (int i = 0; i < inputs.Length; i++) be.Upload(inputs[i], buffers[i], 0);
            op(buffers);
            return results.Select(i =>
            {
                var host = new float[inputs[i].Length];
                be.Download(buffers[i], 0, host);
                return host;
            }).ToArray();
        }
        finally
        {
            foreach (var buffer in buffers) buffer.Release();
        }
    }

    // ---- Convolution weight gradient ---------------------------------------------------------------------------

    private Action<KernelConfig, PatchRowsA, DyB, SplitKC<WeightGradC>, int> WeightGradKernel(ConvTile tile) => tile switch
    {
        ConvTile.Large => Acc.LoadStreamKernel<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmLarge>),
        ConvTile.Mid => Acc.LoadStreamKernel<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmMid>),
        ConvTile.Narrow => Acc.LoadStreamKernel<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmNarrow>),
        _ => Acc.LoadStreamKernel<PatchRowsA, DyB, SplitKC<WeightGradC>, int>(ConvKernels.BackwardWeight<GemmSmall>),
    };

    private static ConvShape Shape(Conv2dGeometry g) => new()
    {
        N = g.N, H = g.H, W = g.W, Cin = g.Cin, Cout = g.Cout, KH = g.KH, KW = g.KW,
        SH = g.StrideH, SW = g.StrideW, PH = g.PadH, PW = g.PadW, OH = g.OH, OW = g.OW,
    };

    /// <summary>One launch of the weight gradient (with db when <paramref name="bias"/>) split into slices of <paramref name="chunk"/> pixels.</summary>
    private (float[] Dw, float[] Db, float[] Ws, int[] Counters) LaunchWeightGrad(Conv2dGeometry g, bool bias, float[] x, float[] dy, ConvTile tile, int splits, int chunk,
        MemoryBuffer1D<int, Stride1D.Dense> counters)
    {
        int rows = g.PatchSize + (bias ? 1 : 0);
        using var dx = Acc.Allocate1D(x);
        using var ddy = Acc.Allocate1D(dy);
        using var dw = Acc.Allocate1D<float>(g.Cout * g.PatchSize);
        using var db = Acc.Allocate1D<float>(g.Cout);
        using var ws = Acc.Allocate1D<float>(splits * rows * g.Cout);
        var c = new SplitKC<WeightGradC>
        {
            Out = new WeightGradC { Dw = dw.View, Db = db.View, Patch = g.PatchSize, Rows = rows, Cout = g.Cout },
            Ws = ws.View, Counters = counters.View, Rows = rows, Cols = g.Cout, Splits = splits,
        };
        WeightGradKernel(tile)(Grid(rows, g.Cout, splits, LaunchPlan.Shape(tile)), new PatchRowsA { X = dx.View, G = Shape(g) }, new DyB { Dy = ddy.View, Cout = g.Cout }, c, chunk);
        Acc.Synchronize();
        return (dw.GetAsArray1D(), db.GetAsArray1D(), ws.GetAsArray1D(), counters.GetAsArray1D());
    }

    public sealed record Conv(Conv2dGeometry G, bool Bias)
    {
        public override string ToString() => $"{G.N}x{G.H}x{G.W}x{G.Cin} -> {G.Cout}, {G.KH}x{G.KW} s{G.StrideH} p{G.PadH},{G.PadW}{(Bias ? " +db" : "")}";
    }

    // Weight gradients the emulator's plan splits: one 128 × 32 tile with and without the bias row, two tiles, a 128 × 128 tile.
    private static readonly Conv[] Convs =
    [
        new(new(2, 7, 6, 5, 6, 3, 3, 1, 1, 1, 1), true),
        new(new(2, 8, 8, 4, 8, 3, 3, 1, 1, 1, 1), false),
        new(new(1, 12, 12, 16, 32, 3, 3, 1, 1, 1, 1), true),
        new(new(1, 10, 9, 4, 68, 3, 1, 1, 1, 1, 0), true),
    ];

    private static IEnumerable<TestCaseData> ConvCases() => Convs.Select(c => new TestCaseData(c).SetArgDisplayNames(c.ToString()));

    /// <summary>The combine of the two-launch path on the host: per element of the [rows, Cout] product, Σ from 0 over the partials in split order, into dw (transposed) and db.</summary>
    private static (float[] Dw, float[] Db) Combine(Conv2dGeometry g, bool bias, float[] ws, int splits)
    {
        int rows = g.PatchSize + (bias ? 1 : 0);
        float[] dw = new float[g.Cout * g.PatchSize], db = new float[g.Cout];
        for (int row = 0; row < rows; row++)
            for (int co = 0; co < g.Cout; co++)
            {
                float s = 0f;
                for (int z = 0; z < splits; z++) s += ws[(z * rows + row) * g.Cout + co];
                if (row < g.PatchSize) dw[co * g.PatchSize + row] = s;
                else db[co] = s;
            }
        return (dw, db);
    }

    [TestCaseSource(nameof(ConvCases))]
    public void ASplitWeightGradientIsItsPartialsCombinedInSplitOrder(Conv conv)
    {
        var g = conv.G;
        int rows = g.PatchSize + (conv.Bias ? 1 : 0), pixels = g.N * g.OH * g.OW;
        float[] x = Uniform(g.N * g.H * g.W * g.Cin, 7), dy = Uniform(pixels * g.Cout, 8);
        var tile = _plan!.ConvTileFor(rows, g.Cout, splitsK: true);
        // The plan's split, and slices of 16 pixels (two slabs, the plan's shortest): more splits than it takes.
        var (planned, plannedChunk) = _plan.SplitK(LaunchPlan.Tiles(rows, g.Cout, tile), pixels);
        Assert.That(planned, Is.GreaterThan(1), "the plan splits this weight gradient");
        using var counters = Counters(LaunchPlan.Tiles(rows, g.Cout, tile));
        foreach (var chunk in new[] { plannedChunk, 2 * GemmTile.BK })
        {
            int splits = (pixels + chunk - 1) / chunk;
            var (dw, db, ws, left) = LaunchWeightGrad(g, conv.Bias, x, dy, tile, splits, chunk, counters);
            var (dwCombined, dbCombined) = Combine(g, conv.Bias, ws, splits);
            Assert.That(dw, Is.EqualTo(dwCombined), $"{splits} splits: dw bit for bit");
            if (conv.Bias) Assert.That(db, Is.EqualTo(dbCombined), $"{splits} splits: db bit for bit");
            Assert.That(left, Is.All.Zero, $"{splits} splits: the tile counters are zero again");
            AssertNearExact(g, x, dy, dw, conv.Bias ? db : null);
        }
    }

    [TestCaseSource(nameof(ConvCases))]
    public void TheBackendsSplitWeightGradientIsItsPartialsCombinedInSplitOrder(Conv conv)
    {
        var g = conv.G;
        int rows = g.PatchSize + (conv.Bias ? 1 : 0), pixels = g.N * g.OH * g.OW;
        float[] x = Uniform(g.N * g.H * g.W * g.Cin, 9), dy = Uniform(pixels * g.Cout, 10);
        var tile = _plan!.ConvTileFor(rows, g.Cout, splitsK: true);
        var (splits, chunk) = _plan.SplitK(LaunchPlan.Tiles(rows, g.Cout, tile), pixels);
        using var counters = Counters(LaunchPlan.Tiles(rows, g.Cout, tile));
        var (_, _, ws, _) = LaunchWeightGrad(g, conv.Bias, x, dy, tile, splits, chunk, counters);
        var (dw, db) = Combine(g, conv.Bias, ws, splits);

        var gpu = Emulator.Backend;
        long launches = gpu.KernelLaunches;
        var got = OnDevice(gpu, [x, dy, new float[dw.Length], new float[g.Cout]], d =>
        {
            if (conv.Bias) gpu.Conv2dBackwardWeightBias(g, d[0], d[1], d[2], d[3]);
            else gpu.Conv2dBackwardWeight(g, d[0], d[1], d[2]);
        }, 2, 3);
        Assert.That(gpu.KernelLaunches - launches, Is.EqualTo(1), "one launch");
        Assert.That(got[0], Is.EqualTo(dw), "dw bit for bit");
        if (conv.Bias) Assert.That(got[1], Is.EqualTo(db), "db bit for bit");
    }

    /// <summary>dw (and db) within FP32's worst-case rounding of the exact sums over pixels.</summary>
    private static void AssertNearExact(Conv2dGeometry g, float[] x, float[] dy, float[] dw, float[]? db)
    {
        int pixels = g.N * g.OH * g.OW;
        for (int co = 0; co < g.Cout; co++)
        {
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                    for (int ci = 0; ci < g.Cin; ci++)
                    {
                        double sum = 0, abs = 0;
                        for (int n = 0; n < g.N; n++)
                            for (int oh = 0; oh < g.OH; oh++)
                                for (int ow = 0; ow < g.OW; ow++)
                                {
                                    int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                    double term = (double)x[((n * g.H + ih) * g.W + iw) * g.Cin + ci] * dy[((n * g.OH + oh) * g.OW + ow) * g.Cout + co];
                                    sum += term;
                                    abs += Math.Abs(term);
                                }
                        int p = (kh * g.KW + kw) * g.Cin + ci;
                        Assert.That(dw[co * g.PatchSize + p], Is.EqualTo(sum).Within((pixels + 16) * Math.ScaleB(abs, -24)), $"dw[{co}, {kh}, {kw}, {ci}]");
                    }
            if (db == null) continue;
            double bias = 0, biasAbs = 0;
            for (int q = 0; q < pixels; q++)
            {
                bias += dy[q * g.Cout + co];
                biasAbs += Math.Abs(dy[q * g.Cout + co]);
            }
            Assert.That(db[co], Is.EqualTo(bias).Within((pixels + 16) * Math.ScaleB(biasAbs, -24)), $"db[{co}]");
        }
    }
}
