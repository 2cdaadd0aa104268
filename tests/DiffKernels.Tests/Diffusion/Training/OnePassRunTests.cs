using DiffKernels.Backends;
using DiffKernels.Tensors;
using DiffKernels.Tests.Gpu;

namespace DiffKernels.Tests.Diffusion.Training;

/// <summary>
/// Every run kind updates every network it trains in one pass over a parameter arena: its iterations call the fused
/// Adam+EMA step and the one-call gradient norm, never the per-tensor Adam step or EMA lerp.
/// </summary>
[TestFixtureSource(typeof(RunContractTests), nameof(RunContractTests.Kinds))]
[NonParallelizable]
public class OnePassRunTests(RunKind kind)
{
    [Test]
    public void EveryUpdateIsOnePassOverTheArena()
    {
        var recorder = new RecordingBackend(Device.Cpu.Backend);
        var previous = Device.Default;
        // The run kinds build their networks on the default device: make it one that records the backend calls.
        Device.Default = new Device("recording", recorder);
        try
        {
            using var run = kind.Start(null, 3);
            run.Run();
        }
        finally
        {
            Device.Default = previous;
        }
        Assert.That(recorder.Called, Does.Contain(nameof(IBackend.AdamEmaStep)).And.Contain(nameof(IBackend.SumOfSquares)));
        Assert.That(recorder.Called, Does.Not.Contain(nameof(IBackend.AdamStep)), "a per-tensor Adam step: some network's optimiser fell back");
        Assert.That(recorder.Called, Does.Not.Contain(nameof(IBackend.Lerp)), "a per-tensor EMA update: the EMA did not move inside the step");
    }
}
