using DiffKernels.Backends;
using DiffKernels.Bench;
using DiffKernels.Bench.Harness;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>The GPU backend counts its kernel launches, per kernel, and `dk bench` reports them per run.</summary>
public class LaunchCountTests
{
    [Test]
    public void AKnownOpSequenceCountsOneLaunchPerKernelCall()
    {
        var gpu = Emulator.Backend;
        var a = gpu.Allocate(64);
        var b = gpu.Allocate(8);
        var y = gpu.Allocate(64);
        try
        {
            var before = gpu.LaunchesByKernel;
            long total = gpu.KernelLaunches;
            gpu.Fill(a, 0, 64, 1.5f);
            gpu.Fill(b, 0, 8, 2f);
            gpu.Binary(BinaryOp.Add, a, [8, 1], a, [8, 1], y, new Shape(8, 8));   // same shape: the flat kernel
            gpu.Binary(BinaryOp.Mul, a, [8, 1], b, [0, 1], y, new Shape(8, 8));   // a row broadcast: the strided one
            gpu.Unary(UnaryOp.Silu, y, y, 64, 0, 0);
            gpu.Fill(a, 0, 0, 0f);                                                // nothing to fill: no launch
            var after = gpu.LaunchesByKernel;
            var delta = after.Where(kv => kv.Value != before.GetValueOrDefault(kv.Key))
                .ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key));
            Assert.That(delta, Is.EquivalentTo(new Dictionary<string, long> { ["Fill"] = 2, ["BinaryFlat"] = 1, ["Binary"] = 1, ["Unary"] = 1 }));
            Assert.That(gpu.KernelLaunches - total, Is.EqualTo(5));
            var host = new float[1];
            gpu.Download(y, 0, host);
            Assert.That(host[0], Is.EqualTo(3f / (1 + MathF.Exp(-3f))).Within(1e-5f), "the launches ran: SiLU(1.5·2)");
        }
        finally
        {
            a.Release();
            b.Release();
            y.Release();
        }
    }

    [Test]
    public void TheBenchReportsLaunchesPerRunOfATinyCase()
    {
        var copy = BenchCatalog.Select(["copy-256mb"], tiny: true).Single();
        var result = BenchRunner.Run(copy, Emulator.Backend, TimingOptions.Once, withBaseline: false);
        Assert.That(result.LaunchesPerRun, Is.EqualTo(1), "one contiguous copy is one CopyStrided launch");
        var count = LaunchCount.Measure(copy, Emulator.Backend, warmup: 1, runs: 2);
        Assert.That(count.Kernels, Is.EqualTo(new[] { ("CopyStrided", 1.0) }));
        Assert.That(count.Total, Is.EqualTo(1));
    }
}
