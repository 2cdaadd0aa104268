using DiffKernels.Diffusion.Models;
using DiffKernels.Gpu.Checks;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// The real UNet-XS (DESIGN.md's layers and widths, class-conditional) gives the same forward and the
/// same parameter gradients on the CPU backend and on the GPU backend (emulator) for one step. The
/// emulator runs a 16×16 input (attention then sits at 8×8 on the middle level): the same parameters
/// and kernels as at 32×32, a quarter of the emulated threads.
/// Tolerance: <see cref="OpMatrix.ModelTolerance"/> normalised error (relative RMS 3e-5) per tensor.
/// </summary>
public class UNetXsStepTests
{
    private static (float[] Output, float Loss, Dictionary<string, float[]> Grads) Step(Device device)
    {
        using var scope = Tensor.Scope();
        using var model = new UNet(UNetConfig.XS(numClasses: 10) with { ImageSize = 16 }, new Generator(7), device);
        // The zero-initialised output layers would give zero gradients upstream: perturb every
        // parameter from one Philox stream (identical on both devices) so all gradients are live.
        var gen = new Generator(11);
        foreach (var p in model.Parameters())
            using (Tensor.NoGrad()) F.AddInPlace(p, gen.Normal(p.Shape, device, std: 0.05f));
        var data = new Generator(3);
        var x = data.Normal([2, 16, 16, 1], device);
        var cNoise = data.Uniform([2], device, -1f, 1f);
        var labels = Tensor.FromSpan([3f, -1f], [2], device);
        var y = model.Forward(x, cNoise, labels);
        var loss = F.MseLoss(y, data.Normal(y.Shape, device));
        loss.Backward();
        var grads = model.NamedParameters()
            .Where(np => !np.Name.EndsWith("k.bias", StringComparison.Ordinal))
            .ToDictionary(np => np.Name, np => np.Parameter.Grad!.ToArray());
        return (y.ToArray(), loss.Item(), grads);
    }

    [Test]
    public void ForwardAndGradientsMatchTheCpu()
    {
        var cpu = Step(Device.Cpu);
        var gpu = Step(Emulator.Backend.Device);
        double forward = OpMatrixRunner.NormalisedError(gpu.Output, cpu.Output);
        var worst = cpu.Grads.Keys.Select(k => (k, e: OpMatrixRunner.NormalisedError(gpu.Grads[k], cpu.Grads[k]))).MaxBy(p => p.e);
        TestContext.Out.WriteLine($"forward {forward:0.00e+00}, worst gradient {worst.k} {worst.e:0.00e+00}, loss {cpu.Loss} vs {gpu.Loss}");
        Assert.That(cpu.Grads.Values.All(g => g.Any(v => v != 0)), "every compared gradient is nonzero");
        Assert.That(forward, Is.LessThanOrEqualTo(OpMatrix.ModelTolerance));
        Assert.That(worst.e, Is.LessThanOrEqualTo(OpMatrix.ModelTolerance), worst.k);
    }
}
