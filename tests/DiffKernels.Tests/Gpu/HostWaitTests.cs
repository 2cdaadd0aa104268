using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Schedules;
using DiffKernels.Diffusion.Training;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// A training step as the EDM trainer takes it (batch uploaded from the host, σ and noise drawn on the device, loss,
/// the run's update policy with clipping, Adam) waits for the device only where the host needs a number: the loss
/// and the gradient norm that the skip policy reads. The uploads queue their copies without waiting.
/// </summary>
public class HostWaitTests
{
    [Test]
    public void AUNetXsTrainingStepWaitsOnlyForItsLossAndGradientNorm()
    {
        var gpu = Emulator.Backend;
        var device = gpu.Device;
        using var model = new UNet(UNetConfig.XS(numClasses: 10) with { ImageSize = 16 }, new Generator(7), device);
        using var adam = new Adam(model.Parameters(), lr: 1e-4f);
        var edm = new Edm();
        var gen = new Generator(1);
        var images = new Generator(2).Normal([2, 16, 16, 1], Device.Cpu).ToArray();
        var waits = new List<long>();
        for (int step = 0; step < 2; step++)   // the first step compiles the kernels and warms the buffer pool
        {
            using var scope = Tensor.Scope();
            var update = new RunUpdate(clip: 1f);
            long before = gpu.HostWaits;
            var x = Tensor.FromSpan(images, [2, 16, 16, 1], device);
            var labels = Tensor.FromSpan([3f, 8f], [2], device);
            var (loss, applied) = update.Minimise(null, edm.Loss(model, x, labels, gen), adam);
            adam.ZeroGrad();
            waits.Add(gpu.HostWaits - before);
            Assert.That(applied && double.IsFinite(loss), $"step {step}: {loss}, {string.Join("; ", update.Problems)}");
        }
        Assert.That(waits, Is.EqualTo(new long[] { 2, 2 }), "host waits per step: the loss read and the gradient-norm read");
    }
}
