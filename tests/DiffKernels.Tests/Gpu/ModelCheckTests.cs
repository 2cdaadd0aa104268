using DiffKernels.Gpu.Checks;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// A UNet-XS-like network (conv, GroupNorm+SiLU, attention block, linear time embedding, pooling,
/// upsampling, concatenation) gives the same forward, the same parameter gradients and the same
/// parameters after one Adam step on the CPU backend and on the GPU backend (emulator), within
/// <see cref="OpMatrix.ModelTolerance"/> normalised error per tensor.
/// </summary>
public class ModelCheckTests
{
    [Test]
    public void OneTrainingStepMatchesTheCpu()
    {
        float[][] cpu, gpu;
        using (Tensor.Scope()) cpu = OpMatrix.ModelStep(new OpInputs(Device.Cpu, "model")).Select(t => t.ToArray()).ToArray();
        using (Tensor.Scope()) gpu = OpMatrix.ModelStep(new OpInputs(Emulator.Backend.Device, "model")).Select(t => t.ToArray()).ToArray();
        Assert.That(gpu, Has.Length.EqualTo(cpu.Length));
        // Outputs: y, loss, the gradients of all parameters but the key bias, then every parameter.
        int parameters = (cpu.Length - 1) / 2;
        double Worst(int from, int to) => Enumerable.Range(from, to - from).Max(i => OpMatrixRunner.NormalisedError(gpu[i], cpu[i]));
        double forward = Worst(0, 2), gradient = Worst(2, parameters + 1), stepped = Worst(parameters + 1, cpu.Length);
        TestContext.Out.WriteLine($"forward {forward:0.00e+00}, gradients {gradient:0.00e+00}, after Adam {stepped:0.00e+00}");
        Assert.That(cpu[1][0], Is.GreaterThan(0.01f), "the loss is not trivial");
        Assert.That(cpu.Skip(2).Take(parameters - 1).All(g => g.Any(v => v != 0)), "every compared gradient is nonzero");
        Assert.That(forward, Is.LessThanOrEqualTo(OpMatrix.ModelTolerance));
        Assert.That(gradient, Is.LessThanOrEqualTo(OpMatrix.ModelTolerance));
        Assert.That(stepped, Is.LessThanOrEqualTo(OpMatrix.ModelTolerance));
    }
}
