using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// Square SGEMMs, plain and in the two transposed forms autograd uses for a product C = A·B:
/// dA = dC·Bᵀ (NT) and dB = Aᵀ·dC (TN).
/// </summary>
internal static class GemmCases
{
    public static IEnumerable<BenchCase> All()
    {
        yield return Case("gemm-1024", false, false, 1024);
        yield return Case("gemm-2048", false, false, 2048);
        yield return Case("gemm-1024-nt", false, true, 1024);
        yield return Case("gemm-1024-tn", true, false, 1024);
        yield return Case("gemm-2048-nt", false, true, 2048);
        yield return Case("gemm-2048-tn", true, false, 2048);
    }

    /// <summary>The square product C[s×s] = op(A)·op(B) named <paramref name="name"/> in <paramref name="group"/>.</summary>
    public static BenchCase Case(string name, bool ta, bool tb, int s, string group = "gemm", BenchCase? tiny = null) =>
        new(name, group, $"C[{s}×{s}] = {(ta ? "Aᵀ" : "A")}·{(tb ? "Bᵀ" : "B")}, k = {s}", BenchUnit.GflopPerSecond,
            2.0 * s * s * s, be => new Run(be, ta, tb, s, s, s), Tiny: tiny);

    private sealed unsafe class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly bool _ta, _tb;
        private readonly int _m, _n, _k;
        private readonly float[] _a, _b, _c;
        private readonly DeviceBuffer _da, _db, _dc;

        public Run(IBackend be, bool ta, bool tb, int m, int n, int k)
        {
            (_be, _ta, _tb, _m, _n, _k) = (be, ta, tb, m, n, k);
            _dev = new DeviceInputs(be);
            _a = HostArrays.Random((long)m * k, 1);
            _b = HostArrays.Random((long)k * n, 2);
            _c = HostArrays.Zeros((long)m * n);
            _da = _dev.Upload(_a);
            _db = _dev.Upload(_b);
            _dc = _dev.Empty((long)m * n);
        }

        private int Lda => _ta ? _m : _k;
        private int Ldb => _tb ? _k : _n;

        public override void Ours()
        {
            _be.Gemm(_ta, _tb, _m, _n, _k, 1f, _da, 0, Lda, _db, 0, Ldb, 0f, _dc, 0, _n, 1, 0, 0, 0);
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.OpenBlas(_be, () =>
        {
            OpenBlas.Threads(BaselineThreads.Count);
            fixed (float* a = _a, b = _b, c = _c)
                OpenBlas.Gemm(_ta, _tb, _m, _n, _k, 1f, a, Lda, b, Ldb, 0f, c, _n);
        });

        protected override void Release() => _dev.Release();
    }
}
