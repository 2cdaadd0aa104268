using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;

namespace DiffKernels.Bench.Cases;

/// <summary>The UNet's workhorse convolution: 3×3, 64→64 channels, 32×32, batch 64, padding 1 (NHWC).</summary>
internal static class ConvCases
{
    /// <summary>The benchmarked geometry.</summary>
    public static readonly Conv2dGeometry Geometry = new(64, 32, 32, 64, 64, 3, 3, 1, 1, 1, 1);

    /// <summary>The three passes of a convolution.</summary>
    public enum Pass { Forward, BackwardData, BackwardWeight }

    /// <summary>The passes' case-name suffixes.</summary>
    public static string Suffix(Pass pass) => pass switch { Pass.Forward => "fwd", Pass.BackwardData => "bwd-data", _ => "bwd-weight" };

    public static IEnumerable<BenchCase> All()
    {
        foreach (var pass in Enum.GetValues<Pass>())
            yield return Case($"conv2d-{Suffix(pass)}", "conv2d", Geometry, pass) with { TorchTarget = 1.0 };
    }

    /// <summary>One pass of the convolution <paramref name="g"/> (3×3, stride 1, pad 1 in every case here).</summary>
    public static BenchCase Case(string name, string group, Conv2dGeometry g, Pass pass, BenchCase? tiny = null)
    {
        double flops = 2.0 * g.N * g.OH * g.OW * g.Cout * g.PatchSize;
        string shape = $"{g.KH}×{g.KW} conv {g.Cin}→{g.Cout}, {g.H}×{g.W}, batch {g.N}, pad {g.PadH}";
        string what = pass switch { Pass.Forward => "y = conv(x, w)", Pass.BackwardData => "dx from dy", _ => "dw from x, dy" };
        return new(name, group, $"{shape}: {what}", BenchUnit.GflopPerSecond, flops, be => new Run(be, g, pass), Tiny: tiny);
    }

    private sealed class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly Conv2dGeometry _g;
        private readonly Pass _pass;
        private readonly DeviceInputs _dev;
        private readonly float[] _x, _w, _dy, _out;
        private readonly DeviceBuffer _dx, _dw, _ddy, _dout;
        private readonly Im2ColConv _baseline;

        public Run(IBackend be, Conv2dGeometry g, Pass pass)
        {
            (_be, _g, _pass) = (be, g, pass);
            _baseline = new Im2ColConv(g);
            long xLen = (long)g.N * g.H * g.W * g.Cin, yLen = (long)g.N * g.OH * g.OW * g.Cout, wLen = (long)g.Cout * g.PatchSize;
            _dev = new DeviceInputs(be);
            _x = HostArrays.Random(xLen, 11);
            _w = HostArrays.Random(wLen, 12);
            _dy = HostArrays.Random(yLen, 13);
            _out = HostArrays.Zeros(pass switch { Pass.Forward => yLen, Pass.BackwardData => xLen, _ => wLen });
            _dx = _dev.Upload(_x);
            _dw = _dev.Upload(_w);
            _ddy = _dev.Upload(_dy);
            _dout = _dev.Empty(_out.Length);
        }

        public override void Ours()
        {
            switch (_pass)
            {
                case Pass.Forward: _be.Conv2dForward(_g, _dx, _dw, null, _dout); break;
                case Pass.BackwardData: _be.Conv2dBackwardData(_g, _ddy, _dw, _dout); break;
                default: _be.Conv2dBackwardWeight(_g, _dx, _ddy, _dout); break;
            }
            _be.Synchronize();
        }

        public override Baseline Baseline => CpuBaselines.OpenBlas(_be, _pass switch
        {
            Pass.Forward => () => _baseline.Forward(_x, _w, _out),
            Pass.BackwardData => () => _baseline.BackwardData(_dy, _w, _out),
            _ => () => _baseline.BackwardWeight(_x, _dy, _out),
        }, "im2col+openblas");

        protected override void Release() => _dev.Release();
    }
}
