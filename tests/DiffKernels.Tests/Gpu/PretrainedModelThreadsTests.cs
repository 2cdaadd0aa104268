using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Tests.Gpu;

/// <summary>An embedded model on an accelerator (the emulator here) takes calls from several threads, one at a time.</summary>
public class PretrainedModelThreadsTests
{
    [Test]
    public void GenerateFromSeveralThreadsOnAnAcceleratorGivesWhatItGivesAlone()
    {
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-diff-instruct.safetensors"), Emulator.Backend.Device);
        ConcurrentCalls.AssertSameAsAlone(threads: 3, calls: 2, (thread, call) => model.Generate(4, seed: (ulong)(thread * 10 + call)));
    }
}
