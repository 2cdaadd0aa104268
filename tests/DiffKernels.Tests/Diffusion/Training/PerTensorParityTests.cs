using DiffKernels.Backends;
using DiffKernels.Diffusion.Data.Toys;
using DiffKernels.Diffusion.Models;
using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;
using DiffKernels.Tests.Gpu;
using DiffKernels.Tests.Optim;

namespace DiffKernels.Tests.Diffusion.Training;

/// <summary>
/// A training run whose optimiser steps in one pass over its parameter arena (clipping and EMA inside the step) ends
/// with the weights, EMA and optimiser state of the same run on the per-tensor path, bit for bit: checkpoints made
/// before the arena resume exactly as they did.
/// </summary>
public class PerTensorParityTests
{
    private static readonly TrainerOptions Options = new()
    {
        Steps = 8, BatchSize = 32, Lr = 3e-3f, WarmupSteps = 2, CheckpointEvery = 0, Seed = 7, GradClip = 0.05f, EmaHalfLifeSamples = 100,
    };

    [Test]
    public void AnArenaRunMatchesThePerTensorRunBitForBit()
    {
        var (onePassCalls, perTensorCalls) = (new RecordingBackend(Device.Cpu.Backend), new RecordingBackend(Device.Cpu.Backend));
        using var onePass = new Mlp(new MlpConfig(Hidden: 32), new Generator(1), new Device("one pass", onePassCalls));
        using var perTensor = new Mlp(new MlpConfig(Hidden: 32), new Generator(1), new Device("per tensor", perTensorCalls));
        using var unclipped = new Mlp(new MlpConfig(Hidden: 32), new Generator(1));
        // A second holder of one weight's storage keeps that network's optimiser off an arena.
        using var pin = perTensor.Parameters().First().Detach();
        using var a = new EdmTrainer(onePass, new ToyDataSource(GaussianMixtureToy.EightGaussians()), Options);
        using var b = new EdmTrainer(perTensor, new ToyDataSource(GaussianMixtureToy.EightGaussians()), Options);
        using var c = new EdmTrainer(unclipped, new ToyDataSource(GaussianMixtureToy.EightGaussians()), Options with { GradClip = null });
        a.Run();
        b.Run();
        c.Run();
        Assert.That(onePassCalls.Called, Does.Contain(nameof(IBackend.AdamEmaStep)).And.Not.Contain(nameof(IBackend.AdamStep)));
        Assert.That(perTensorCalls.Called, Does.Contain(nameof(IBackend.AdamStep)).And.Not.Contain(nameof(IBackend.AdamEmaStep)));
        OnePassStepTests.AssertBits(onePass.StateDict(), perTensor.StateDict(), "weights");
        OnePassStepTests.AssertBits(a.EmaWeights, b.EmaWeights, "EMA");
        Assert.That(a.EmaWeights.Values.First().ToArray(), Is.Not.EqualTo(onePass.Parameters().First().ToArray()), "the EMA lags the weights");
        Assert.That(unclipped.Parameters().First().ToArray(), Is.Not.EqualTo(onePass.Parameters().First().ToArray()), "the clipping changed the steps");
    }
}
