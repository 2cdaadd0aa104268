using DiffKernels.Nn;
using DiffKernels.Optim;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Optim;

namespace DiffKernels.Tests.Gpu;

/// <summary>
/// What the parameter arena saves on a GPU: once the moments exist, one clipped optimiser step with its EMA update takes
/// three kernel launches (the sum of squares' two passes and the fused step), against several per parameter on the
/// per-tensor path, with the same values.
/// </summary>
public class OptimiserLaunchTests
{
    private sealed class Net : Module
    {
        public Net(Device device)
        {
            var gen = new Generator(3);
            int[][] shapes = [[16, 8], [16], [8, 16], [8], [4, 4, 3], []];
            for (int i = 0; i < shapes.Length; i++) RegisterParameter($"p{i}", gen.Uniform(new Shape(shapes[i]), device, -1f, 1f));
        }
    }

    [Test]
    public void AClippedStepWithItsEmaIsThreeLaunches()
    {
        var gpu = Emulator.Backend;
        using var arenaNet = new Net(gpu.Device);
        using var plainNet = new Net(gpu.Device);
        using var pin = plainNet.Parameters().First().Detach();
        using var arenaAdam = new Adam(arenaNet.Parameters(), lr: 0.01f);
        using var plainAdam = new Adam(plainNet.Parameters(), lr: 0.01f);
        using var arenaEma = new Ema(arenaNet);
        using var plainEma = new Ema(plainNet);
        Assert.That(arenaEma.TryFollow(arenaAdam.Arena!), Is.True);
        var a = arenaNet.Parameters().ToArray();
        var b = plainNet.Parameters().ToArray();
        long plainLaunches = 0, arenaLaunches = 0;
        float norm = 0, plainNorm = 0;
        var launches = gpu.LaunchesByKernel;
        // The first step also lays the moments out (two fills); the second is what every later step costs.
        for (int step = 0; step < 2; step++)
        {
            for (int i = 0; i < a.Length; i++)
            {
                var g = ParameterArenaTests.Values((int)a[i].Numel, 10 * step + i, 3.0);
                ParameterArenaTests.Backward(a[i], g);
                ParameterArenaTests.Backward(b[i], g);
            }
            long before = gpu.KernelLaunches;
            plainNorm = GradClip.ClipGlobalNorm(b, 1f);
            plainAdam.Step();
            plainEma.Update(0.9f);
            plainLaunches = gpu.KernelLaunches - before;

            launches = gpu.LaunchesByKernel;
            before = gpu.KernelLaunches;
            norm = arenaAdam.Arena!.GradientNorm();
            Assert.That(norm, Is.GreaterThan(1f), "the step is clipped");
            arenaAdam.StepInOnePass(1f / norm, arenaEma, 0.9f);
            arenaLaunches = gpu.KernelLaunches - before;
            arenaAdam.ZeroGrad();
            plainAdam.ZeroGrad();
        }
        var delta = gpu.LaunchesByKernel.Where(kv => kv.Value != launches.GetValueOrDefault(kv.Key))
            .ToDictionary(kv => kv.Key, kv => kv.Value - launches.GetValueOrDefault(kv.Key));
        TestContext.Out.WriteLine($"launches of one step: {plainLaunches} per tensor, {arenaLaunches} over the arena");
        Assert.That(arenaLaunches, Is.EqualTo(3), string.Join(", ", delta.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.That(delta.Keys, Does.Contain("SquaresRows").And.Contain("AdamEma"));
        Assert.That(plainLaunches, Is.GreaterThanOrEqualTo(5 * a.Length), "the per-tensor path: square, sum, add, scale, step and lerp per parameter");

        Assert.That(norm, Is.EqualTo(plainNorm).Within(1e-5 * plainNorm));
        for (int i = 0; i < a.Length; i++)
            Assert.That(a[i].ToArray(), Is.EqualTo(b[i].ToArray()).Within(1e-6f), $"parameter {i}");
        foreach (var (name, shadow) in plainEma.Shadow)
            Assert.That(arenaEma.Shadow[name].ToArray(), Is.EqualTo(shadow.ToArray()).Within(1e-6f), $"shadow {name}");
    }
}
