using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// One-head self-attention at the UNet's attention resolutions: 8×8 (64 tokens) and 16×16 (256 tokens),
/// 64 channels. FLOPs count the products only: 4·b·n²·d forward, 8·b·n²·d backward.
/// </summary>
internal static class AttentionCases
{
    public static IEnumerable<BenchCase> All()
    {
        foreach (var (n, b) in new[] { (64, 64), (256, 16) })
        {
            yield return Case($"attention-fwd-{n}", "attention", b, n, 1, 64, backward: false);
            yield return Case($"attention-bwd-{n}", "attention", b, n, 1, 64, backward: true);
        }
    }

    /// <summary>Self-attention over <paramref name="n"/> tokens with <paramref name="heads"/> heads of <paramref name="d"/> channels, forward or backward.</summary>
    public static BenchCase Case(string name, string group, int b, int n, int heads, int d, bool backward, BenchCase? tiny = null)
    {
        string shape = $"batch {b}, {n} tokens × {d} channels, {(heads == 1 ? "one head" : $"{heads} heads")}";
        double flops = (backward ? 8.0 : 4.0) * b * heads * n * n * d;
        return new(name, group, backward ? $"{shape}: dq, dk, dv" : $"{shape}: o = softmax(q·kᵀ/√d)·v",
            BenchUnit.GflopPerSecond, flops, be => new Run(be, b, n, heads, d, backward), Tiny: tiny);
    }

    private sealed class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly int _b, _n, _h, _d;
        private readonly bool _backward;
        private readonly float _scale;
        private readonly float[] _q, _k, _v, _o, _g, _gq, _gk, _gv;
        private readonly DeviceBuffer _dq, _dk, _dv, _do, _dlse, _dg, _dgq, _dgk, _dgv;
        private readonly MaterialisedAttention _baseline;

        public Run(IBackend be, int b, int n, int h, int d, bool backward)
        {
            (_be, _b, _n, _h, _d, _backward) = (be, b, n, h, d, backward);
            _scale = 1f / MathF.Sqrt(d);
            long len = (long)b * n * h * d;
            _dev = new DeviceInputs(be);
            _q = HostArrays.Random(len, 21);
            _k = HostArrays.Random(len, 22);
            _v = HostArrays.Random(len, 23);
            _g = HostArrays.Random(len, 24);
            (_o, _gq, _gk, _gv) = (HostArrays.Zeros(len), HostArrays.Zeros(len), HostArrays.Zeros(len), HostArrays.Zeros(len));
            (_dq, _dk, _dv, _dg) = (_dev.Upload(_q), _dev.Upload(_k), _dev.Upload(_v), _dev.Upload(_g));
            (_do, _dlse) = (_dev.Empty(len), _dev.Empty((long)b * h * n));
            (_dgq, _dgk, _dgv) = (_dev.Empty(len), _dev.Empty(len), _dev.Empty(len));
            // The materialised baseline has one head; with several it is not offered (it runs only beside the CPU backend).
            _baseline = new MaterialisedAttention(b, n, d, _scale);
            if (backward)
            {
                _be.AttentionForward(_dq, _dk, _dv, _do, _dlse, b, n, n, h, d, _scale);
                if (be.Name == "cpu" && h == 1 && OpenBlas.Available) _baseline.Forward(_q, _k, _v, _o);
            }
        }

        public override void Ours()
        {
            if (_backward) _be.AttentionBackward(_dq, _dk, _dv, _do, _dlse, _dg, _dgq, _dgk, _dgv, _b, _n, _n, _h, _d, _scale);
            else _be.AttentionForward(_dq, _dk, _dv, _do, _dlse, _b, _n, _n, _h, _d, _scale);
            _be.Synchronize();
        }

        public override Baseline Baseline => _h != 1 ? Baseline.None("the materialised baseline has one head") : CpuBaselines.OpenBlas(_be, _backward
            ? () => _baseline.Backward(_q, _k, _v, _g, _gq, _gk, _gv)
            : () => _baseline.Forward(_q, _k, _v, _o), "materialised+openblas");

        protected override void Release() => _dev.Release();
    }
}
