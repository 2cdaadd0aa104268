using DiffKernels.Backends;
using DiffKernels.Backends.Cpu;
using DiffKernels.Backends.Cpu.Gemm;
using DiffKernels.Tests.Support;

namespace DiffKernels.Tests.Backends;

/// <summary>The CPU GEMM kernel against a double-precision reference, on both micro-kernel paths.</summary>
public class SgemmTests
{
    private static readonly int[] Sizes = [1, 2, 5, 15, 16, 17, 31, 33, 65, 100, 257];

    /// <summary>One GEMM problem laid out inside larger buffers.</summary>
    public sealed record Problem(bool TransA, bool TransB, int M, int N, int K, float Alpha, float Beta,
        int Batch = 1, int PadLd = 0, long OffA = 0, long OffB = 0, long OffC = 0, int Gap = 0, bool ShareB = false)
    {
        public int RowsA => TransA ? K : M;
        public int ColsA => TransA ? M : K;
        public int RowsB => TransB ? N : K;
        public int ColsB => TransB ? K : N;
        public int Lda => ColsA + PadLd;
        public int Ldb => ColsB + PadLd;
        public int Ldc => N + PadLd;
        public long StrideA => (long)RowsA * Lda + Gap;
        public long StrideB => ShareB ? 0 : (long)RowsB * Ldb + Gap;
        public long StrideC => (long)M * Ldc + Gap;
        public long LenA => OffA + Batch * StrideA;
        public long LenB => OffB + (ShareB ? (long)RowsB * Ldb : Batch * StrideB);
        public long LenC => OffC + Batch * StrideC;
    }

    private static IEnumerable<TestCaseData> TailCases()
    {
        // Rotations put every size in every position (m, n and k tails, the KC and MC block edges).
        for (int i = 0; i < Sizes.Length; i++)
        {
            int m = Sizes[i], n = Sizes[(i + 4) % Sizes.Length], k = Sizes[(i + 7) % Sizes.Length];
            foreach (var avx in new[] { true, false })
                foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    yield return new TestCaseData(avx, ta, tb, m, n, k).SetName($"{(avx ? "avx2" : "portable")} {T(ta)}{T(tb)} m{m} n{n} k{k}");
        }
    }

    private static string T(bool t) => t ? "T" : "N";

    [TestCaseSource(nameof(TailCases))]
    public void MatchesReferenceOnEveryTail(bool avx, bool transA, bool transB, int m, int n, int k) =>
        Check(avx, new Problem(transA, transB, m, n, k, Alpha: 0.75f, Beta: -0.5f));

    private static IEnumerable<TestCaseData> LayoutCases()
    {
        foreach (var avx in new[] { true, false })
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                string p = $"{(avx ? "avx2" : "portable")} {T(ta)}{T(tb)}";
                yield return new TestCaseData(avx, new Problem(ta, tb, 17, 33, 9, 1.5f, 0.25f, Batch: 3, PadLd: 3, OffA: 5, OffB: 7, OffC: 11, Gap: 13))
                    .SetName($"{p} batched, offsets, padded ld");
                yield return new TestCaseData(avx, new Problem(ta, tb, 7, 20, 300, -1f, 1f, Batch: 4, PadLd: 1, Gap: 2, ShareB: true))
                    .SetName($"{p} shared B (stride 0), k over one block");
                yield return new TestCaseData(avx, new Problem(ta, tb, 150, 40, 3, 1f, 0f, Batch: 2, PadLd: 2, OffC: 1))
                    .SetName($"{p} two row blocks, beta 0");
            }
    }

    [TestCaseSource(nameof(LayoutCases))]
    public void HonoursStridesOffsetsAndLeadingDimensions(bool avx, Problem p) => Check(avx, p);

    [TestCase(true)]
    [TestCase(false)]
    public void BetaZeroIgnoresNaNInC(bool avx)
    {
        var p = new Problem(false, false, 13, 19, 7, 1f, 0f);
        Check(avx, p, cFill: float.NaN);
    }

    [TestCase(0, 1f)]
    [TestCase(4, 0f)]
    public void WithoutAProductCIsOnlyScaled(int k, float alpha)
    {
        var p = new Problem(false, false, 5, 6, k, alpha, 2f, Batch: 2, Gap: 3);
        Check(false, p);
        Check(false, p with { Beta = 0f }, cFill: float.NaN);
    }

    [Test]
    public void OutOfRangeArgumentsAreRejected()
    {
        var be = CpuBackend.Instance;
        var a = be.Allocate(12);
        var b = be.Allocate(12);
        var c = be.Allocate(9);
        try
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => be.Gemm(false, false, 3, 3, 4, 1, a, 1, 4, b, 0, 3, 0, c, 0, 3, 1, 0, 0, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => be.Gemm(false, false, 3, 3, 4, 1, a, 0, 4, b, 0, 3, 0, c, 0, 3, 2, 0, 0, 9));
            Assert.Throws<ArgumentOutOfRangeException>(() => be.Gemm(false, false, 3, 3, 4, 1, a, 0, 3, b, 0, 3, 0, c, 0, 3, 1, 0, 0, 0));
        }
        finally
        {
            a.Release();
            b.Release();
            c.Release();
        }
    }

    [Test]
    public void ABiasEqualsWritingItFirstAndAccumulatingOntoIt()
    {
        // Two batched 5×7 products over k = 9 with ldc 8: the bias goes to every row of both, nothing between rows.
        var be = CpuBackend.Instance;
        var rng = new System.Random(5);
        float[] Vals(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (av, bv, biasv) = (Vals(2 * 5 * 9), Vals(9 * 7), Vals(7));
        var a = Fill(be, av);
        var b = Fill(be, bv);
        var bias = Fill(be, biasv);
        var fused = Fill(be, Enumerable.Repeat(float.NaN, 2 * 5 * 8).ToArray());
        var first = Fill(be, Enumerable.Repeat(float.NaN, 2 * 5 * 8).ToArray());
        try
        {
            be.Gemm(false, false, 5, 7, 9, 1f, a, 0, 9, b, 0, 7, 0f, fused, 0, 8, 2, 45, 0, 40, bias);
            for (int z = 0; z < 2; z++)
                be.CopyStrided(bias, 0, [0, 1], first, z * 40, [8, 1], new DiffKernels.Tensors.Shape(5, 7));
            be.Gemm(false, false, 5, 7, 9, 1f, a, 0, 9, b, 0, 7, 1f, first, 0, 8, 2, 45, 0, 40);
            var (x, y) = (((CpuBuffer)fused).Data.AsSpan().ToArray(), ((CpuBuffer)first).Data.AsSpan().ToArray());
            Assert.That(x, Is.EqualTo(y), "same bits, and the padding column left alone (NaN in both)");
            Assert.That(x.Where((_, i) => i % 8 < 7).All(float.IsFinite), Is.True, "every element of C written");
            var ex = Assert.Throws<ArgumentException>(() => be.Gemm(false, false, 5, 7, 9, 1f, a, 0, 9, b, 0, 7, 1f, fused, 0, 8, 2, 45, 0, 40, bias));
            Assert.That(ex!.Message, Does.Contain("a bias needs beta = 0"));
            Assert.Throws<ArgumentOutOfRangeException>(() => be.Gemm(false, false, 5, 8, 9, 1f, a, 0, 9, b, 0, 7, 0f, fused, 0, 8, 1, 45, 0, 40, bias));
        }
        finally
        {
            foreach (var buf in new[] { a, b, bias, fused, first }) buf.Release();
        }
    }

    private static DeviceBuffer Fill(CpuBackend be, float[] values)
    {
        var buf = be.Allocate(values.Length);
        values.CopyTo(((CpuBuffer)buf).Data.AsSpan());
        return buf;
    }

    private static void Check(bool avx, Problem p, float cFill = float.NaN)
    {
        if (avx) Assume.That(Sgemm.Avx2Supported, "AVX2/FMA not available on this machine");
        var rng = new System.Random(p.M * 7919 + p.N * 31 + p.K);
        var a = RandomValues(rng, p.LenA);
        var b = RandomValues(rng, p.LenB);
        var c0 = RandomValues(rng, p.LenC);
        // Cells outside every C matrix keep a sentinel; with beta 0 the C matrices start as cFill.
        var inC = new bool[p.LenC];
        for (int bi = 0; bi < p.Batch; bi++)
            for (int i = 0; i < p.M; i++)
                for (int j = 0; j < p.N; j++) inC[p.OffC + bi * p.StrideC + (long)i * p.Ldc + j] = true;
        for (long x = 0; x < c0.Length; x++)
            if (!inC[x]) c0[x] = 12345f;
            else if (p.Beta == 0) c0[x] = cFill;

        var expected = Reference(p, a, b, c0);
        var actual = RunBackend(avx, p, a, b, c0);

        for (long x = 0; x < c0.Length; x++)
            if (!inC[x]) Assert.That(actual[x], Is.EqualTo(12345f), $"element {x} outside C was written");
        var sel = Enumerable.Range(0, c0.Length).Where(x => inC[x]).ToArray();
        double err = OpCheck.NormalisedError(sel.Select(x => (double)actual[x]).ToArray(), sel.Select(x => expected[x]).ToArray());
        Assert.That(err, Is.LessThanOrEqualTo(2e-6), $"{p}: error {err:E2}");
    }

    private static float[] RunBackend(bool avx, Problem p, float[] a, float[] b, float[] c)
    {
        IBackend be = CpuBackend.Instance;
        var (ba, bb, bc) = (be.Allocate(a.Length), be.Allocate(b.Length), be.Allocate(c.Length));
        bool saved = Sgemm.UseAvx2;
        try
        {
            Sgemm.UseAvx2 = avx;
            be.Upload(a, ba, 0);
            be.Upload(b, bb, 0);
            be.Upload(c, bc, 0);
            be.Gemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, ba, p.OffA, p.Lda, bb, p.OffB, p.Ldb, p.Beta,
                bc, p.OffC, p.Ldc, p.Batch, p.StrideA, p.StrideB, p.StrideC);
            var y = new float[c.Length];
            be.Download(bc, 0, y);
            return y;
        }
        finally
        {
            Sgemm.UseAvx2 = saved;
            ba.Release();
            bb.Release();
            bc.Release();
        }
    }

    private static double[] Reference(Problem p, float[] a, float[] b, float[] c)
    {
        var y = c.Select(v => (double)v).ToArray();
        for (int bi = 0; bi < p.Batch; bi++)
        {
            long oa = p.OffA + bi * p.StrideA, ob = p.OffB + bi * p.StrideB, oc = p.OffC + bi * p.StrideC;
            for (int i = 0; i < p.M; i++)
                for (int j = 0; j < p.N; j++)
                {
                    double s = 0;
                    for (int q = 0; q < p.K; q++)
                    {
                        double av = p.TransA ? a[oa + (long)q * p.Lda + i] : a[oa + (long)i * p.Lda + q];
                        double bv = p.TransB ? b[ob + (long)j * p.Ldb + q] : b[ob + (long)q * p.Ldb + j];
                        s += av * bv;
                    }
                    long x = oc + (long)i * p.Ldc + j;
                    y[x] = p.Alpha * s + (p.Beta == 0 ? 0 : p.Beta * c[x]);
                }
        }
        return y;
    }

    private static float[] RandomValues(System.Random rng, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }
}
