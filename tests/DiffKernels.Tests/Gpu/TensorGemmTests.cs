using DiffKernels.Backends;
using DiffKernels.Gpu;
using DiffKernels.Kernels;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The TF32 and 3×TF32 GEMM on the emulator, where the tensor-core kernels run their C# twin (the same fragment
/// loads, TF32 rounding, exchange by the ISA's fragment layout and epilogue as the inline-PTX kernel), against a
/// double-precision reference and against the FP32 path: shapes off every tile edge, all four transposes, both tile
/// shapes, split-K, batches, offsets and α, β.
/// </summary>
public class TensorGemmTests
{
    private static GpuBackend? _fp32, _tf32, _tf32x3;

    [OneTimeSetUp]
    public void Open()
    {
        _fp32 = GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Fp32);
        _tf32 = GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Tf32);
        _tf32x3 = GpuBackend.Create(GpuKind.CpuEmulator, MatmulPrecision.Tf32x3);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _fp32?.Dispose();
        _tf32?.Dispose();
        _tf32x3?.Dispose();
    }

    /// <summary>One product C = op(A)·op(B) (m × n, depth k) over stored row-major A and B.</summary>
    public sealed record Shape(int M, int N, int K, bool TransA, bool TransB)
    {
        public int Lda => TransA ? M : K;
        public int Ldb => TransB ? K : N;
        public float A(float[] a, int i, int p) => TransA ? a[p * Lda + i] : a[i * Lda + p];
        public float B(float[] b, int p, int j) => TransB ? b[j * Ldb + p] : b[p * Ldb + j];
        public override string ToString() => $"{M}x{N}x{K} {(TransA ? "T" : "N")}{(TransB ? "T" : "N")}";
    }

    // Odd sizes inside one 64 × 64 tile, every transpose; a k below one slab; 128 × 128 tiles with edges; split-K.
    private static readonly Shape[] Shapes =
    [
        new(37, 19, 21, false, false), new(19, 37, 21, true, false), new(21, 13, 40, false, true), new(33, 17, 9, true, true),
        new(5, 7, 3, false, false), new(130, 70, 150, false, false), new(10, 12, 200, false, true),
    ];

    private static IEnumerable<TestCaseData> ShapeCases() => Shapes.Select(s => new TestCaseData(s).SetArgDisplayNames(s.ToString()));

    private static float[] Uniform(int n, int seed)
    {
        var rng = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Uploads <paramref name="a"/>, <paramref name="b"/> and <paramref name="c"/>, runs <paramref name="gemm"/> on them, returns C.</summary>
    private static float[] OnDevice(IBackend be, float[] a, float[] b, float[] c, Action<DeviceBuffer, DeviceBuffer, DeviceBuffer> gemm)
    {
        DeviceBuffer da = be.Allocate(a.Length), db = be.Allocate(b.Length), dc = be.Allocate(c.Length);
        try
        {
            be.Upload(a, da, 0);
            be.Upload(b, db, 0);
            be.Upload(c, dc, 0);
            gemm(da, db, dc);
            var result = new float[c.Length];
            be.Download(dc, 0, result);
            return result;
        }
        finally
        {
            da.Release();
            db.Release();
            dc.Release();
        }
    }

    private static float[] Run(GpuBackend gpu, Shape s, float[] a, float[] b) =>
        OnDevice(gpu, a, b, new float[s.M * s.N], (da, db, dc) =>
            ((IBackend)gpu).Gemm(s.TransA, s.TransB, s.M, s.N, s.K, 1f, da, 0, s.Lda, db, 0, s.Ldb, 0f, dc, 0, s.N, 1, 0, 0, 0));

    /// <summary>The exact product in double, and per element Σ|a·b| and √Σ(a·b)² (the scales of the error bounds).</summary>
    private static (double[] Exact, double[] Abs, double[] L2) Reference(Shape s, float[] a, float[] b)
    {
        var (exact, abs, l2) = (new double[s.M * s.N], new double[s.M * s.N], new double[s.M * s.N]);
        for (int i = 0; i < s.M; i++)
            for (int j = 0; j < s.N; j++)
            {
                double sum = 0, sa = 0, s2 = 0;
                for (int p = 0; p < s.K; p++)
                {
                    double prod = (double)s.A(a, i, p) * s.B(b, p, j);
                    sum += prod;
                    sa += Math.Abs(prod);
                    s2 += prod * prod;
                }
                (exact[i * s.N + j], abs[i * s.N + j], l2[i * s.N + j]) = (sum, sa, Math.Sqrt(s2));
            }
        return (exact, abs, l2);
    }

    private static double RmsError(float[] c, double[] exact) => Math.Sqrt(c.Zip(exact, (x, e) => (x - e) * (x - e)).Average());

    [TestCaseSource(nameof(ShapeCases))]
    public void Tf32IsWithinTf32RoundingOfTheExactProduct(Shape s)
    {
        float[] a = Uniform(s.M * s.K, 1), b = Uniform(s.K * s.N, 2);
        var (exact, abs, l2) = Reference(s, a, b);
        var c = Run(_tf32!, s, a, b);
        // Each product carries the relative error δ of two roundings to 10 mantissa bits, |δ| ≤ 2⁻¹⁰ and RMS
        // 2⁻¹¹·√(2/3); over k products of either sign the errors add as √Σ(a·b)², so six standard deviations are
        // 5·2⁻¹¹·√Σ(a·b)². FP32 accumulation adds at most k·2⁻²⁴·Σ|a·b|.
        for (int i = 0; i < c.Length; i++)
        {
            double bound = 5 * Math.ScaleB(l2[i], -11) + s.K * Math.ScaleB(abs[i], -24);
            Assert.That(Math.Abs(c[i] - exact[i]), Is.LessThanOrEqualTo(bound), $"C[{i / s.N}, {i % s.N}] of {s}");
        }
        // And TF32 it is: an FP32 product would be a thousand times closer.
        double fp32 = RmsError(Run(_fp32!, s, a, b), exact), tf32 = RmsError(c, exact);
        TestContext.Out.WriteLine($"{s}: RMS error TF32 {tf32:0.00e+00}, FP32 {fp32:0.00e+00}");
        Assert.That(tf32, Is.GreaterThan(30 * fp32));
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void ThreeTf32IsWithinFp32RoundingOfTheExactProduct(Shape s)
    {
        float[] a = Uniform(s.M * s.K, 3), b = Uniform(s.K * s.N, 4);
        var (exact, abs, _) = Reference(s, a, b);
        var c = Run(_tf32x3!, s, a, b);
        // FP32's worst case for the 3k additions of three passes (2⁻²⁴ of Σ|a·b| each), and 12·2⁻²⁴ per product
        // for the split: the small halves' rounding (2⁻²² each) and the dropped small·small (2⁻²²).
        for (int i = 0; i < c.Length; i++)
        {
            double bound = (3 * s.K + 12) * Math.ScaleB(abs[i], -24);
            Assert.That(Math.Abs(c[i] - exact[i]), Is.LessThanOrEqualTo(bound), $"C[{i / s.N}, {i % s.N}] of {s}");
        }
        double tf32 = RmsError(Run(_tf32!, s, a, b), exact), tf32x3 = RmsError(c, exact), fp32 = RmsError(Run(_fp32!, s, a, b), exact);
        TestContext.Out.WriteLine($"{s}: RMS error 3×TF32 {tf32x3:0.00e+00}, TF32 {tf32:0.00e+00}, FP32 {fp32:0.00e+00}");
        Assert.That(tf32x3, Is.LessThan(tf32 / 64), "the split recovers at least 6 of TF32's 13 lost bits (the rest is FP32 accumulation)");
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void IntegerInputsGiveTheFp32ResultBitForBit(Shape s)
    {
        // Whole numbers in [−8, 8] are TF32 values, their products and sums (below 2²⁴) exact in FP32: any order of
        // summation gives the exact product, so a misplaced fragment element cannot hide in rounding.
        var rng = new System.Random(11);
        float[] a = Enumerable.Range(0, s.M * s.K).Select(_ => (float)rng.Next(-8, 9)).ToArray();
        float[] b = Enumerable.Range(0, s.K * s.N).Select(_ => (float)rng.Next(-8, 9)).ToArray();
        var exact = Reference(s, a, b).Exact.Select(x => (float)x).ToArray();
        Assert.That(Run(_fp32!, s, a, b), Is.EqualTo(exact));
        Assert.That(Run(_tf32!, s, a, b), Is.EqualTo(exact));
        Assert.That(Run(_tf32x3!, s, a, b), Is.EqualTo(exact));
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void Tf32ValuesGiveTheFp32ResultUpToSummationOrder(Shape s)
    {
        // Inputs already TF32: the rounding changes nothing and the products are exact in FP32, so TF32 differs from
        // the FP32 path by the order of the sums only, and 3×TF32 (whose small halves are zero) not at all from TF32.
        static float[] Tf32Values(float[] x) => x.Select(v => Tf32.Value(Tf32.RoundBits(v))).ToArray();
        float[] a = Tf32Values(Uniform(s.M * s.K, 5)), b = Tf32Values(Uniform(s.K * s.N, 6));
        var (_, abs, _) = Reference(s, a, b);
        float[] fp32 = Run(_fp32!, s, a, b), tf32 = Run(_tf32!, s, a, b);
        for (int i = 0; i < fp32.Length; i++)
            Assert.That(Math.Abs(tf32[i] - fp32[i]), Is.LessThanOrEqualTo(2 * s.K * Math.ScaleB(abs[i], -24)), $"C[{i / s.N}, {i % s.N}] of {s}");
        Assert.That(Run(_tf32x3!, s, a, b), Is.EqualTo(tf32));
    }

    [TestCase(MatmulPrecision.Tf32)]
    [TestCase(MatmulPrecision.Tf32x3)]
    public void BatchesOffsetsAlphaAndBetaMatchTheFp32Path(MatmulPrecision precision)
    {
        // C = 0.5·Aᵀ·B − 2·C over 3 batches with offsets, strides and leading dimensions wider than the matrices;
        // whole-number inputs keep every result exact, so the paths must agree bit for bit.
        const int m = 19, n = 23, k = 17, batch = 3, lda = 21, ldb = 25, ldc = 26;
        const int strideA = k * lda + 5, strideB = k * ldb + 3, strideC = m * ldc + 7;
        var rng = new System.Random(7);
        float[] Ints(int count) => Enumerable.Range(0, count).Select(_ => (float)rng.Next(-6, 7)).ToArray();
        float[] a = Ints(2 + batch * strideA), b = Ints(1 + batch * strideB), c0 = Ints(4 + batch * strideC);
        float[] Run(GpuBackend gpu) => OnDevice(gpu, a, b, c0, (da, db, dc) =>
            ((IBackend)gpu).Gemm(true, false, m, n, k, 0.5f, da, 2, lda, db, 1, ldb, -2f, dc, 4, ldc, batch, strideA, strideB, strideC));
        Assert.That(Run(precision == MatmulPrecision.Tf32 ? _tf32! : _tf32x3!), Is.EqualTo(Run(_fp32!)));
    }
}
