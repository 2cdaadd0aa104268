using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;
using DiffKernels.Tensors;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// Bandwidth-bound kernels on the conv case's activation (64×32×32×64, NHWC): GroupNorm(8 groups)+SiLU
/// forward and backward, the same with the U-Net's per-(sample, channel) FiLM fused in, an elementwise chain,
/// SiLU's backward, and Adam over UNet-S's parameter count.
/// GB/s counts each input read once and each output written once; the baseline streams as many arrays.
/// </summary>
internal static class MemoryBoundCases
{
    private const int N = 64, Spatial = 32 * 32, C = 64, Groups = 8;
    private const long Numel = (long)N * Spatial * C;

    /// <summary>UNet-S's parameter count (DESIGN.md), the Adam case's length.</summary>
    public const int UNetSParameters = 1_742_881;

    public static IEnumerable<BenchCase> All()
    {
        const string act = "64×32×32×64";
        yield return new("groupnorm-silu-fwd", "groupnorm", $"SiLU(GroupNorm(x)), {act}, 8 groups, affine", BenchUnit.GBPerSecond,
            8.0 * Numel, be => new Run(be, 1, 1, (be, d) => be.GroupNormForward(d[0], d[1], d[2], d[3], d[4], d[5], N, Spatial, C, Groups, 1e-5f, true)));
        yield return new("groupnorm-silu-bwd", "groupnorm", $"backward of SiLU(GroupNorm(x)): dx, dγ, dβ, {act}", BenchUnit.GBPerSecond,
            12.0 * Numel, be => new Run(be, 2, 1, (be, d) => be.GroupNormBackward(d[0], d[1], d[2], d[4], d[5], d[6], d[3], d[7], d[8], N, Spatial, C, Groups, true), prepare: true));
        yield return new("groupnorm-film-silu-fwd", "groupnorm", $"SiLU(GroupNorm(x)·(1 + scale[n, c]) + shift[n, c]) as one kernel, {act}, 8 groups, affine",
            BenchUnit.GBPerSecond, 8.0 * Numel, be => new Run(be, 1, 1, (be, d) =>
                be.GroupNormForward(d[0], d[1], d[2], d[3], d[4], d[5], N, Spatial, C, Groups, 1e-5f, true, d[10], d[11])));
        yield return new("groupnorm-film-silu-bwd", "groupnorm", $"backward of the FiLM case: dx, dγ, dβ, dscale, dshift, {act}", BenchUnit.GBPerSecond,
            12.0 * Numel, be => new Run(be, 2, 1, (be, d) => be.GroupNormBackward(d[0], d[1], d[2], d[4], d[5], d[6], d[3], d[7], d[8], N, Spatial, C,
                Groups, true, d[10], d[11], d[12], d[13]), prepare: true));
        yield return new("elementwise-chain", "elementwise", $"SiLU(x·scale[c] + shift[c]) as three kernels, {act}", BenchUnit.GBPerSecond,
            8.0 * Numel, be => new Run(be, 1, 1, Chain));
        yield return new("silu-bwd", "elementwise", $"dx = dy·SiLU′(x), {act}", BenchUnit.GBPerSecond,
            12.0 * Numel, be => new Run(be, 2, 1, (be, d) => be.UnaryBackward(UnaryOp.Silu, d[0], d[3], d[6], d[7], Numel, 0, 0)));
        yield return new("adam", "adam", $"fused Adam step over {UNetSParameters:N0} parameters", BenchUnit.GBPerSecond,
            28.0 * UNetSParameters, be => new AdamRun(be));
    }

    private static void Chain(IBackend be, DeviceBuffer[] d)
    {
        var shape = new Shape((int)(Numel / C), C);
        be.Binary(BinaryOp.Mul, d[0], [C, 1], d[1], [0, 1], d[3], shape);
        be.Binary(BinaryOp.Add, d[3], [C, 1], d[2], [0, 1], d[3], shape);
        be.Unary(UnaryOp.Silu, d[3], d[3], Numel, 0, 0);
    }

    /// <summary>
    /// Buffers: 0 x, 1 γ (or scale), 2 β (or shift), 3 y, 4 mean, 5 rstd, 6 dy, 7 dx, 8 dγ, 9 dβ, and the FiLM's
    /// 10 scale, 11 shift ([N, C]), 12 dscale, 13 dshift.
    /// With <c>prepare</c> the forward runs once first so the backward has its statistics.
    /// </summary>
    private sealed class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer[] _d;
        private readonly Action<IBackend, DeviceBuffer[]> _op;
        private readonly StreamBaseline? _stream;

        public Run(IBackend be, int reads, int writes, Action<IBackend, DeviceBuffer[]> op, bool prepare = false)
        {
            (_be, _op) = (be, op);
            _dev = new DeviceInputs(be);
            var affine = HostArrays.Random(C, 32);
            for (int i = 0; i < C; i++) affine[i] = 1 + 0.5f * affine[i];
            _d =
            [
                _dev.Upload(HostArrays.Random(Numel, 31)), _dev.Upload(affine), _dev.Upload(HostArrays.Random(C, 33)),
                _dev.Empty(Numel), _dev.Empty(N * Groups), _dev.Empty(N * Groups),
                _dev.Upload(HostArrays.Random(Numel, 34)), _dev.Empty(Numel), _dev.Empty(C), _dev.Empty(C),
                _dev.Upload(HostArrays.Random(N * C, 35)), _dev.Upload(HostArrays.Random(N * C, 36)), _dev.Empty(N * C), _dev.Empty(N * C),
            ];
            if (prepare) be.GroupNormForward(_d[0], _d[1], _d[2], _d[3], _d[4], _d[5], N, Spatial, C, Groups, 1e-5f, true);
            else be.Unary(UnaryOp.Silu, _d[0], _d[3], Numel, 0, 0);
            if (be.Name == "cpu") _stream = new StreamBaseline(reads, writes, Numel);
        }

        public override void Ours()
        {
            _op(_be, _d);
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.Stream(_be, _stream);

        protected override void Release() => _dev.Release();
    }

    private sealed class AdamRun : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer _p, _g, _m, _v;
        private readonly StreamBaseline? _stream;
        private int _step;

        public AdamRun(IBackend be)
        {
            _be = be;
            _dev = new DeviceInputs(be);
            _p = _dev.Upload(HostArrays.Random(UNetSParameters, 41));
            _g = _dev.Upload(HostArrays.Random(UNetSParameters, 42));
            _m = _dev.Empty(UNetSParameters);
            _v = _dev.Empty(UNetSParameters);
            if (be.Name == "cpu") _stream = new StreamBaseline(4, 3, UNetSParameters, inPlace: true);
        }

        public override void Ours()
        {
            _be.AdamStep(_p, _g, _m, _v, UNetSParameters, 1e-4f, 0.9f, 0.999f, 1e-8f, 0f, false, ++_step);
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.Stream(_be, _stream);

        protected override void Release() => _dev.Release();
    }
}
