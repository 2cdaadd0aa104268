using DiffKernels.Backends;
using DiffKernels.Bench;
using DiffKernels.Bench.Harness;
using DiffKernels.Tensors;
using static DiffKernels.Tests.Support.DkRunner;

namespace DiffKernels.Tests.Bench;

/// <summary>`dk bench --profile`: every kernel call of a case is counted and timed, labelled by op.</summary>
public class KernelProfileTests
{
    private sealed class TwoFillsAndASilu(IBackend be) : CaseRun
    {
        private readonly DeviceBuffer _x = be.Allocate(4096), _y = be.Allocate(4096);

        public override void Ours()
        {
            be.Fill(_x, 0, 4096, 0.5f);
            be.Fill(_y, 0, 4096, 0f);
            be.Unary(UnaryOp.Silu, _x, _y, 4096, 0, 0);
        }

        protected override void Release()
        {
            _x.Release();
            _y.Release();
        }
    }

    [Test]
    public void CountsEveryCallPerRunUnderItsOpLabel()
    {
        var c = new BenchCase("fake", "fake", "two fills and a SiLU", BenchUnit.MsPerStep, 0, be => new TwoFillsAndASilu(be));
        var p = KernelProfile.Measure(c, Device.Cpu.Backend, warmup: 1, runs: 4);
        var calls = p.Kernels.ToDictionary(k => k.Kernel, k => k.CallsPerRun);
        Assert.That(calls, Is.EqualTo(new Dictionary<string, double> { ["Fill"] = 2, ["Unary Silu"] = 1 }), "warm-up runs are not counted");
        Assert.That(p.Kernels.All(k => k.MsPerRun >= 0), Is.True);
        Assert.That(p.Kernels.Sum(k => k.MsPerRun), Is.LessThanOrEqualTo(p.MsPerRun), "kernel time lies inside the run");
        Assert.That(p.OutsideMs, Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void TheCommandPrintsAKernelTable()
    {
        var (code, stdout, stderr) = Dk("bench", "silu-bwd", "--profile");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("silu-bwd:").And.Contain("UnaryBackward Silu").And.Contain("outside kernels"));
    }
}
