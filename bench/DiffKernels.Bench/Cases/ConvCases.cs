using DiffKernels.Backends;
using DiffKernels.Bench.Baselines;

namespace DiffKernels.Bench.Cases;

/// <summary>The UNet's workhorse convolution: 3×3, 64→64 channels, 32×32, batch 64, padding 1 (NHWC).</summary>
internal static class ConvCases
{
    /// <summary>The benchmarked geometry.</summary>
    public static readonly Conv2dGeometry Geometry = new(64, 32, 32, 64, 64, 3, 3, 1, 1, 1, 1);

    private enum Pass { Forward, BackwardData, BackwardWeight }

    public static IEnumerable<BenchCase> All()
    {
        var g = Geometry;
        double flops = 2.0 * g.N * g.OH * g.OW * g.Cout * g.PatchSize;
        string shape = $"3×3 conv {g.Cin}→{g.Cout}, {g.H}×{g.W}, batch {g.N}, pad 1";
        yield return new("conv2d-fwd", "conv2d", $"{shape}: y = conv(x, w)", BenchUnit.GflopPerSecond, flops, be => new Run(be, Pass.Forward), TorchTarget: 1.0);
        yield return new("conv2d-bwd-data", "conv2d", $"{shape}: dx from dy", BenchUnit.GflopPerSecond, flops, be => new Run(be, Pass.BackwardData), TorchTarget: 1.0);
        yield return new("conv2d-bwd-weight", "conv2d", $"{shape}: dw from x, dy", BenchUnit.GflopPerSecond, flops, be => new Run(be, Pass.BackwardWeight), TorchTarget: 1.0);
    }

    private sealed class Run : CaseRun
    {
        private readonly IBackend _be;
        private readonly Pass _pass;
        private readonly DeviceInputs _dev;
        private readonly float[] _x, _w, _dy, _out;
        private readonly DeviceBuffer _dx, _dw, _ddy, _dout;
        private readonly Im2ColConv _baseline = new(Geometry);

        public Run(IBackend be, Pass pass)
        {
            (_be, _pass) = (be, pass);
            var g = Geometry;
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
                case Pass.Forward: _be.Conv2dForward(Geometry, _dx, _dw, null, _dout); break;
                case Pass.BackwardData: _be.Conv2dBackwardData(Geometry, _ddy, _dw, _dout); break;
                default: _be.Conv2dBackwardWeight(Geometry, _dx, _ddy, _dout); break;
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
