using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;
using DiffKernels.Tensors;

namespace DiffKernels.Bench.Cases;

/// <summary>
/// Bandwidth-bound kernels on the conv case's activation (64×32×32×64, NHWC): GroupNorm(8 groups)+SiLU
/// forward and backward, with and without a FiLM scale and shift in the same kernel, an elementwise chain, SiLU's backward, and Adam over UNet-S's parameter count
/// (alone, and with the clipping scale and the EMA update in the same pass, as a parameter arena steps).
/// GB/s counts each input read once and each output written once; the baseline streams as many arrays.
/// </summary>
internal static class MemoryBoundCases
{
    private const int Groups = 8;

    /// <summary>An NHWC activation: batch, pixels per image, channels.</summary>
    public readonly record struct Activation(int N, int Spatial, int C)
    {
        /// <summary>Elements in all.</summary>
        public long Numel => (long)N * Spatial * C;

        /// <summary>As the descriptions write it, e.g. 64×32×32×64 for a square image.</summary>
        public override string ToString()
        {
            int side = (int)Math.Round(Math.Sqrt(Spatial));
            return side * side == Spatial ? $"{N}×{side}×{side}×{C}" : $"{N}×{Spatial}×{C}";
        }
    }

    /// <summary>The conv case's activation.</summary>
    private static readonly Activation ConvActivation = new(64, 32 * 32, 64);

    /// <summary>UNet-S's parameter count (DESIGN.md), the Adam case's length.</summary>
    public const int UNetSParameters = 1_742_881;

    public static IEnumerable<BenchCase> All()
    {
        var a = ConvActivation;
        yield return GroupNorm("groupnorm-silu-fwd", "groupnorm", a, backward: false);
        yield return GroupNorm("groupnorm-silu-bwd", "groupnorm", a, backward: true);
        yield return GroupNorm("groupnorm-film-silu-fwd", "groupnorm", a, backward: false, film: true);
        yield return GroupNorm("groupnorm-film-silu-bwd", "groupnorm", a, backward: true, film: true);
        yield return new("elementwise-chain", "elementwise", $"SiLU(x·scale[c] + shift[c]) as three kernels, {a}", BenchUnit.GBPerSecond,
            8.0 * a.Numel, be => new Run(be, a, 1, 1, Chain));
        yield return new("silu-bwd", "elementwise", $"dx = dy·SiLU′(x), {a}", BenchUnit.GBPerSecond,
            12.0 * a.Numel, be => new Run(be, a, 2, 1, (be, d) => be.UnaryBackward(UnaryOp.Silu, d[0], d[3], d[6], d[7], a.Numel, 0, 0)));
        yield return Adam("adam", "adam", UNetSParameters, Adam("adam", "adam", 4096));
        yield return new("arena-step", "arena", $"Adam step, clipping scale and EMA update in one pass over {UNetSParameters:N0} parameters (AdamEmaStep)",
            BenchUnit.GBPerSecond, 36.0 * UNetSParameters, be => new AdamRun(be, UNetSParameters, withEma: true));
    }

    /// <summary>
    /// SiLU(GroupNorm(x)) with 8 groups and an affine transform over <paramref name="a"/>, forward or backward; with
    /// <paramref name="film"/> the per-(sample, channel) scale and shift in the same kernel (and their gradients).
    /// </summary>
    public static BenchCase GroupNorm(string name, string group, Activation a, bool backward, BenchCase? tiny = null, bool film = false)
    {
        if (backward)
            return new(name, group, film ? $"backward of the FiLM case: dx, dγ, dβ, dscale, dshift, {a}" : $"backward of SiLU(GroupNorm(x)): dx, dγ, dβ, {a}",
                BenchUnit.GBPerSecond, 12.0 * a.Numel, be => new Run(be, a, 2, 1, (be, d) => be.GroupNormBackward(d[0], d[1], d[2], d[4], d[5], d[6], d[3], d[7], d[8],
                    a.N, a.Spatial, a.C, Groups, true, film ? d[10] : null, film ? d[11] : null, film ? d[12] : null, film ? d[13] : null), prepare: true, film), Tiny: tiny);
        return new(name, group, film ? $"SiLU(GroupNorm(x)·(1 + scale[n, c]) + shift[n, c]) as one kernel, {a}, 8 groups, affine" : $"SiLU(GroupNorm(x)), {a}, 8 groups, affine",
            BenchUnit.GBPerSecond, 8.0 * a.Numel, be => new Run(be, a, 1, 1, (be, d) => be.GroupNormForward(d[0], d[1], d[2], d[3], d[4], d[5], a.N, a.Spatial, a.C, Groups, 1e-5f, true,
                film ? d[10] : null, film ? d[11] : null), film: film), Tiny: tiny);
    }

    /// <summary>A fused Adam step over <paramref name="count"/> parameters.</summary>
    public static BenchCase Adam(string name, string group, int count, BenchCase? tiny = null) =>
        new(name, group, $"fused Adam step over {count:N0} parameters", BenchUnit.GBPerSecond, 28.0 * count, be => new AdamRun(be, count), Tiny: tiny);

    private static void Chain(IBackend be, DeviceBuffer[] d)
    {
        var a = ConvActivation;
        var shape = new Shape((int)(a.Numel / a.C), a.C);
        be.Binary(BinaryOp.Mul, d[0], [a.C, 1], d[1], [0, 1], d[3], shape);
        be.Binary(BinaryOp.Add, d[3], [a.C, 1], d[2], [0, 1], d[3], shape);
        be.Unary(UnaryOp.Silu, d[3], d[3], a.Numel, 0, 0);
    }

    /// <summary>
    /// Buffers: 0 x, 1 γ (or scale), 2 β (or shift), 3 y, 4 mean, 5 rstd, 6 dy, 7 dx, 8 dγ, 9 dβ; with FiLM also
    /// 10 scale[n, c], 11 shift[n, c], 12 dscale, 13 dshift. With <c>prepare</c> the forward runs once first so the
    /// backward has its statistics.
    /// </summary>
    private sealed class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer[] _d;
        private readonly Action<IBackend, DeviceBuffer[]> _op;
        private readonly StreamBaseline? _stream;

        public Run(IBackend be, Activation a, int reads, int writes, Action<IBackend, DeviceBuffer[]> op, bool prepare = false, bool film = false)
        {
            (_be, _op) = (be, op);
            var (n, spatial, c, numel) = (a.N, a.Spatial, a.C, a.Numel);
            _dev = new DeviceInputs(be);
            var affine = HostArrays.Random(c, 32);
            for (int i = 0; i < c; i++) affine[i] = 1 + 0.5f * affine[i];
            _d =
            [
                _dev.Upload(HostArrays.Random(numel, 31)), _dev.Upload(affine), _dev.Upload(HostArrays.Random(c, 33)),
                _dev.Empty(numel), _dev.Empty(n * Groups), _dev.Empty(n * Groups),
                _dev.Upload(HostArrays.Random(numel, 34)), _dev.Empty(numel), _dev.Empty(c), _dev.Empty(c),
                .. film ? new[] { _dev.Upload(HostArrays.Random(n * c, 35)), _dev.Upload(HostArrays.Random(n * c, 36)), _dev.Empty(n * c), _dev.Empty(n * c) } : [],
            ];
            if (prepare) be.GroupNormForward(_d[0], _d[1], _d[2], _d[3], _d[4], _d[5], n, spatial, c, Groups, 1e-5f, true, film ? _d[10] : null, film ? _d[11] : null);
            else be.Unary(UnaryOp.Silu, _d[0], _d[3], numel, 0, 0);
            if (be.Name == "cpu") _stream = new StreamBaseline(reads, writes, numel);
        }

        public override void Ours()
        {
            _op(_be, _d);
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.Stream(_be, _stream);

        protected override void Release() => _dev.Release();
    }

    /// <summary>Adam alone (reads p, g, m, v; writes p, m, v) or with the clipping scale and EMA (also reads and writes the shadow).</summary>
    private sealed class AdamRun : CaseRun
    {
        private readonly IBackend _be;
        private readonly DeviceInputs _dev;
        private readonly DeviceBuffer _p, _g, _m, _v;
        private readonly DeviceBuffer? _shadow;
        private readonly StreamBaseline? _stream;
        private readonly int _count;
        private int _step;

        public AdamRun(IBackend be, int count, bool withEma = false)
        {
            (_be, _count) = (be, count);
            _dev = new DeviceInputs(be);
            _p = _dev.Upload(HostArrays.Random(count, 41));
            _g = _dev.Upload(HostArrays.Random(count, 42));
            _m = _dev.Empty(count);
            _v = _dev.Empty(count);
            if (withEma) _shadow = _dev.Upload(HostArrays.Random(count, 43));
            if (be.Name == "cpu") _stream = withEma ? new StreamBaseline(5, 4, count, inPlace: true) : new StreamBaseline(4, 3, count, inPlace: true);
        }

        public override void Ours()
        {
            if (_shadow == null) _be.AdamStep(_p, _g, _m, _v, _count, 1e-4f, 0.9f, 0.999f, 1e-8f, 0f, false, ++_step);
            else _be.AdamEmaStep(_p, _g, _m, _v, _shadow, _count, 1e-4f, 0.9f, 0.999f, 1e-8f, 0f, false, ++_step, 0.5f, 0.001f);
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.Stream(_be, _stream);

        protected override void Release() => _dev.Release();
    }
}
