using DiffKernels.Gpu;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

public class AllocatorTests
{
    [Test]
    public void BucketsRoundUpByAtMostAQuarter()
    {
        Assert.That(BufferPool.Bucket(1), Is.EqualTo(256));
        Assert.That(BufferPool.Bucket(256), Is.EqualTo(256));
        Assert.That(BufferPool.Bucket(257), Is.EqualTo(320));
        Assert.That(BufferPool.Bucket(512), Is.EqualTo(512));
        Assert.That(BufferPool.Bucket(1000), Is.EqualTo(1024));
        for (long n = 200; n < 5_000_000; n = n * 3 / 2 + 7)
        {
            long b = BufferPool.Bucket(n);
            Assert.That(b, Is.GreaterThanOrEqualTo(n));
            Assert.That(b, Is.LessThanOrEqualTo(Math.Max(256, n * 1.25)), $"bucket of {n}");
        }
    }

    [Test]
    public void AWarmTrainingStepAllocatesNothingFromTheDriver()
    {
        var gpu = Emulator.Backend;
        var dev = gpu.Device;
        using var model = new Linear(12, 8, gen: new Generator(1), device: dev);
        using var opt = new Adam(model.Parameters(), lr: 1e-2f);
        var gen = new Generator(2);
        void Step()
        {
            using var scope = Tensor.Scope();
            var x = gen.Normal([5, 12], dev);
            var loss = F.MseLoss(F.Silu(model.Forward(x)), gen.Normal([5, 8], dev));
            model.ZeroGrad();
            loss.Backward();
            opt.Step();
            loss.Item();
        }
        Step();
        Step();
        long before = gpu.Memory.DriverAllocations, reusesBefore = gpu.Memory.Reuses;
        for (int i = 0; i < 3; i++) Step();
        Assert.That(gpu.Memory.DriverAllocations, Is.EqualTo(before));
        Assert.That(gpu.Memory.Reuses, Is.GreaterThan(reusesBefore));
    }

    [Test]
    public void ReleasedMemoryReturnsToTheCacheAndCanBeDropped()
    {
        using var gpu = GpuBackend.Create(GpuKind.CpuEmulator);
        var b = gpu.Allocate(1000);
        Assert.That(gpu.Memory.InUseBytes, Is.EqualTo(1024 * sizeof(float)));
        b.Release();
        Assert.That(gpu.Memory, Is.EqualTo(new GpuMemoryStats(1, 0, 1024 * sizeof(float), 0)));
        gpu.Allocate(900).Release();
        Assert.That(gpu.Memory.Reuses, Is.EqualTo(1));
        gpu.ReleaseCachedMemory();
        Assert.That(gpu.Memory.CachedBytes, Is.EqualTo(0));
    }

    [Test]
    public void BuffersOfAnotherBackendAreRejected()
    {
        var cpu = Tensor.Ones([3]);
        var gpu = Tensor.Ones([3], Emulator.Backend.Device);
        Assert.That(() => Emulator.Backend.Binary(DiffKernels.Backends.BinaryOp.Add, gpu.Storage, [1], cpu.Storage, [1], gpu.Storage, new Shape(3)),
            Throws.ArgumentException.With.Message.Contains("belongs to backend 'cpu'"));
    }
}
