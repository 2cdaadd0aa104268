using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;
using DiffKernels.Backends.Cpu.Gemm;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Backends;

/// <summary>
/// The parallel paths of the fast CPU kernels: SGEMM shared by rows or by columns, the implicit-GEMM
/// convolutions (whole-run packing, row and column tails, strides), on both micro-kernel paths and
/// several worker counts, and every micro-kernel (portable, AVX2, AVX-512) over edge shapes. Each result must match a double-precision reference and be bit-identical
/// whatever the number of workers.
/// </summary>
public class CpuKernelPathTests
{
    private static readonly int[] WorkerCounts = [1, 2, 3, 8];
    private static readonly GemmPath[] Paths = [GemmPath.Portable, GemmPath.Avx2, GemmPath.Avx512];
    private static readonly int[] TailSizes = [1, 5, 6, 7, 17, 31, 32, 33, 65, 257];

    private static IEnumerable<TestCaseData> TailCases()
    {
        // Rotations put every size in every role: row, column (16- and 32-wide panels) and depth tails.
        for (int i = 0; i < TailSizes.Length; i++)
        {
            int m = TailSizes[i], n = TailSizes[(i + 3) % TailSizes.Length], k = TailSizes[(i + 7) % TailSizes.Length];
            foreach (var path in Paths)
                foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    yield return new TestCaseData(path.ToString(), ta, tb, m, n, k).SetName($"{path} {(ta ? "T" : "N")}{(tb ? "T" : "N")} m{m} n{n} k{k}");
        }
    }

    [TestCaseSource(nameof(TailCases))]
    public void EveryKernelHandlesEveryTail(string path, bool transA, bool transB, int m, int n, int k)
    {
        var rng = new System.Random(m * 7919 + n * 31 + k);
        var a = Random(rng, (long)m * k);
        var b = Random(rng, (long)k * n);
        var c0 = Random(rng, (long)m * n);
        var c = WithPath(path, CpuParallel.Workers, () =>
        {
            var r = (float[])c0.Clone();
            Sgemm.Run(transA, transB, m, n, k, 0.75f, a, 0, transA ? m : k, b, 0, transB ? k : n, -0.5f, r, 0, n, 1, 0, 0, 0);
            return r;
        });
        AssertClose(c, GemmReference(transA, transB, m, n, k, 0.75, a, b, -0.5, c0), 2e-6);
    }

    private static double[] GemmReference(bool transA, bool transB, int m, int n, int k, double alpha, float[] a, float[] b, double beta, float[] c0)
    {
        var expected = new double[(long)m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(transA ? a[(long)p * m + i] : a[(long)i * k + p]) * (transB ? b[(long)j * k + p] : b[(long)p * n + j]);
                expected[(long)i * n + j] = alpha * s + beta * c0[(long)i * n + j];
            }
        return expected;
    }

    private static IEnumerable<TestCaseData> GemmCases()
    {
        // Tall products split by rows; a short wide one (few row panels) split by columns; odd sizes
        // leave row, column and depth tails in every block; k = 520 spans three depth steps; n = 2060 two column blocks.
        var shapes = new (int M, int N, int K)[] { (205, 40, 520), (13, 517, 300), (97, 83, 257), (30, 2060, 20) };
        foreach (var (m, n, k) in shapes)
            foreach (var path in Paths)
                foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    yield return new TestCaseData(path.ToString(), ta, tb, m, n, k)
                        .SetName($"{path} {(ta ? "T" : "N")}{(tb ? "T" : "N")} {m}x{n}x{k}");
    }

    [TestCaseSource(nameof(GemmCases))]
    public void GemmIsExactAcrossWorkerCounts(string path, bool transA, bool transB, int m, int n, int k)
    {
        var rng = new System.Random(m + 31 * n + 977 * k);
        var a = Random(rng, (long)m * k);
        var b = Random(rng, (long)k * n);
        var c0 = Random(rng, (long)m * n);
        var runs = WorkerCounts.Select(w => WithPath(path, w, () =>
        {
            var c = (float[])c0.Clone();
            Sgemm.Run(transA, transB, m, n, k, 0.5f, a, 0, transA ? m : k, b, 0, transB ? k : n, -1.5f, c, 0, n, 1, 0, 0, 0);
            return c;
        })).ToList();
        AssertClose(runs[0], GemmReference(transA, transB, m, n, k, 0.5, a, b, -1.5, c0), 2e-6);
        for (int r = 1; r < runs.Count; r++) Assert.That(runs[r], Is.EqualTo(runs[0]), $"{WorkerCounts[r]} workers differ from one");
    }

    /// <summary>
    /// Convolution geometries: x [N,H,W,Cin], w [Cout,KH,KW,Cin], stride, padding. The last two have more output
    /// pixels than one weight-gradient chunk; the next-to-last also has more output channels than one packed A block, a
    /// count that is no multiple of the micro-tile's rows, and channel runs the in-place B rows can read; the last has
    /// the 64-channel runs whose B panels the AVX2 kernel packs.
    /// </summary>
    private static readonly Conv2dGeometry[] ConvGeometries =
    [
        new(2, 7, 9, 32, 20, 3, 3, 1, 1, 1, 1),
        new(3, 6, 5, 16, 33, 3, 3, 2, 2, 1, 1),
        new(1, 8, 8, 24, 7, 3, 1, 1, 1, 2, 0),
        new(2, 5, 6, 48, 16, 1, 1, 1, 1, 0, 0),
        new(1, 9, 7, 5, 17, 5, 3, 1, 2, 2, 1),
        new(3, 24, 20, 16, 8, 3, 3, 1, 1, 1, 1),
        new(2, 24, 24, 32, 150, 3, 3, 1, 1, 1, 1),
        new(2, 24, 24, 64, 20, 3, 3, 1, 1, 1, 1),
    ];

    private static IEnumerable<TestCaseData> ConvCases()
    {
        foreach (var g in ConvGeometries)
            foreach (var path in Paths)
                yield return new TestCaseData(path.ToString(), g).SetName($"{path} x[{g.N},{g.H},{g.W},{g.Cin}] w[{g.Cout},{g.KH},{g.KW}] s{g.StrideH},{g.StrideW} p{g.PadH},{g.PadW}");
    }

    [TestCaseSource(nameof(ConvCases))]
    public void ConvPassesAreExactAcrossWorkerCounts(string path, Conv2dGeometry g)
    {
        var rng = new System.Random(g.Cin * 101 + g.Cout);
        long xLen = (long)g.N * g.H * g.W * g.Cin, yLen = (long)g.N * g.OH * g.OW * g.Cout, wLen = (long)g.Cout * g.PatchSize;
        var x = Random(rng, xLen);
        var w = Random(rng, wLen);
        var bias = Random(rng, g.Cout);
        var dy = Random(rng, yLen);
        var be = CpuBackend.Instance;
        var outputs = WorkerCounts.Select(workers => WithPath(path, workers, () =>
        {
            using var bx = Upload(x);
            using var bw = Upload(w);
            using var bb = Upload(bias);
            using var bdy = Upload(dy);
            using var y = new Buf(yLen);
            using var dx = new Buf(xLen);
            using var dw = new Buf(wLen);
            be.Conv2dForward(g, bx.B, bw.B, bb.B, y.B);
            be.Conv2dBackwardData(g, bdy.B, bw.B, dx.B);
            be.Conv2dBackwardWeight(g, bx.B, bdy.B, dw.B);
            return new[] { y.Read(), dx.Read(), dw.Read() };
        })).ToList();

        var (ey, edx, edw) = ConvReference(g, x, w, bias, dy);
        AssertClose(outputs[0][0], ey, 2e-6, "forward");
        AssertClose(outputs[0][1], edx, 2e-6, "data gradient");
        AssertClose(outputs[0][2], edw, 2e-6, "weight gradient");
        for (int r = 1; r < outputs.Count; r++)
            for (int o = 0; o < 3; o++) Assert.That(outputs[r][o], Is.EqualTo(outputs[0][o]), $"output {o} with {WorkerCounts[r]} workers");
    }

    private static (double[] Y, double[] Dx, double[] Dw) ConvReference(Conv2dGeometry g, float[] x, float[] w, float[] bias, float[] dy)
    {
        var y = new double[(long)g.N * g.OH * g.OW * g.Cout];
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        for (int n = 0; n < g.N; n++)
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                    for (int co = 0; co < g.Cout; co++)
                    {
                        long yi = ((long)(n * g.OH + oh) * g.OW + ow) * g.Cout + co;
                        double s = bias[co];
                        for (int kh = 0; kh < g.KH; kh++)
                            for (int kw = 0; kw < g.KW; kw++)
                            {
                                int ih = oh * g.StrideH - g.PadH + kh, iw = ow * g.StrideW - g.PadW + kw;
                                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                for (int ci = 0; ci < g.Cin; ci++)
                                {
                                    long xi = ((long)(n * g.H + ih) * g.W + iw) * g.Cin + ci;
                                    long wi = ((long)(co * g.KH + kh) * g.KW + kw) * g.Cin + ci;
                                    s += (double)x[xi] * w[wi];
                                    dx[xi] += (double)dy[yi] * w[wi];
                                    dw[wi] += (double)dy[yi] * x[xi];
                                }
                            }
                        y[yi] = s;
                    }
        return (y, dx, dw);
    }

    [Test]
    public void NestedParallelLoopsRunInline()
    {
        int saved = CpuParallel.Workers;
        try
        {
            CpuParallel.Workers = 4;
            var sums = new long[64];
            CpuParallel.For(64, 1 << 20, (s, e) =>
            {
                for (long i = s; i < e; i++)
                    CpuParallel.For(100, 1 << 20, (a, b) =>
                    {
                        for (long j = a; j < b; j++) Interlocked.Add(ref sums[i], j);
                    });
            });
            Assert.That(sums, Is.All.EqualTo(4950));
        }
        finally
        {
            CpuParallel.Workers = saved;
        }
    }

    [Test]
    public void BackToBackJobsEachCoverTheirRangeExactlyOnce()
    {
        // Jobs follow each other faster than workers go to sleep and wake, across pool sizes: a stale
        // completion signal from one job would let the next return while its chunks still run.
        int saved = CpuParallel.Workers;
        try
        {
            for (int rep = 0; rep < 3000; rep++)
            {
                CpuParallel.Workers = rep % 3 == 0 ? 8 : 2;
                var hits = new int[257];
                CpuParallel.For(hits.Length, 1 << 20, (s, e) =>
                {
                    for (long i = s; i < e; i++) Interlocked.Increment(ref hits[i]);
                });
                Assert.That(hits, Is.All.EqualTo(1), $"job {rep}");
            }
        }
        finally
        {
            CpuParallel.Workers = saved;
        }
    }

    [Test]
    public void AFailingChunkIsRethrownAndThePoolStaysUsable()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => CpuParallel.For(1000, 1 << 20, (s, e) =>
        {
            if (s <= 500 && 500 < e) throw new InvalidOperationException("chunk failed");
        }));
        Assert.That(ex!.Message, Is.EqualTo("chunk failed"));
        long total = 0;
        CpuParallel.For(1000, 1 << 20, (s, e) => Interlocked.Add(ref total, e - s));
        Assert.That(total, Is.EqualTo(1000));
    }

    [Test]
    public void ConcurrentCallersEachGetTheirWholeRange()
    {
        var totals = new long[4];
        var threads = Enumerable.Range(0, totals.Length).Select(t => new Thread(() =>
        {
            for (int rep = 0; rep < 50; rep++)
                CpuParallel.For(10_000, 64, (s, e) => Interlocked.Add(ref totals[t], e - s));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(totals, Is.All.EqualTo(50L * 10_000));
    }

    [Test]
    public void WorkersMustBePositive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuParallel.Workers = 0);

    /// <summary>Runs <paramref name="body"/> with the kernel family named <paramref name="name"/> and the given worker count.</summary>
    private static T WithPath<T>(string name, int workers, Func<T> body)
    {
        var path = Enum.Parse<GemmPath>(name);
        if (path == GemmPath.Avx2) Assume.That(Sgemm.Avx2Supported, "AVX2/FMA not available on this machine");
        if (path == GemmPath.Avx512) Assume.That(Sgemm.Avx512Supported, "AVX-512F not available on this machine");
        var (savedAvx2, savedAvx512, savedWorkers) = (Sgemm.UseAvx2, Sgemm.UseAvx512, CpuParallel.Workers);
        try
        {
            Sgemm.UseAvx2 = path != GemmPath.Portable;
            Sgemm.UseAvx512 = path == GemmPath.Avx512;
            CpuParallel.Workers = workers;
            Assert.That(Sgemm.Path, Is.EqualTo(path));
            return body();
        }
        finally
        {
            (Sgemm.UseAvx2, Sgemm.UseAvx512, CpuParallel.Workers) = (savedAvx2, savedAvx512, savedWorkers);
        }
    }

    private static void AssertClose(float[] actual, double[] expected, double tol, string what = "result")
    {
        double err = OpCheck.NormalisedError(actual.Select(v => (double)v).ToArray(), expected);
        Assert.That(err, Is.LessThanOrEqualTo(tol), $"{what}: normalised error {err:E2}");
    }

    private static float[] Random(System.Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static Buf Upload(float[] host)
    {
        var b = new Buf(host.Length);
        CpuBackend.Instance.Upload(host, b.B, 0);
        return b;
    }

    /// <summary>A backend buffer released at the end of a using block.</summary>
    private sealed class Buf(long n) : IDisposable
    {
        public DeviceBuffer B { get; } = CpuBackend.Instance.Allocate(Math.Max(1, n));

        public float[] Read()
        {
            var v = new float[B.Length];
            CpuBackend.Instance.Download(B, 0, v);
            return v;
        }

        public void Dispose() => B.Release();
    }
}
