using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Tests.Gpu;

/// <summary>An embedded model on an accelerator (the emulator here) takes calls from several threads, one at a time.</summary>
public class PretrainedModelThreadsTests
{
    [Test]
    public void GenerateFromSeveralThreadsOnAnAcceleratorGivesWhatItGivesAlone()
    {
        const int Threads = 3, Calls = 2;
        using var model = PretrainedModel.Load(Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-diff-instruct.safetensors"), Emulator.Backend.Device);
        float[] Draw(int thread, int call) => model.Generate(4, seed: (ulong)(thread * 10 + call));
        var alone = new float[Threads, Calls][];
        for (int t = 0; t < Threads; t++)
            for (int c = 0; c < Calls; c++) alone[t, c] = Draw(t, c);

        var together = new float[Threads, Calls][];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int c = 0; c < Calls; c++) together[t, c] = Draw(t, c);
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());

        for (int t = 0; t < Threads; t++)
            for (int c = 0; c < Calls; c++)
                Assert.That(together[t, c], Is.EqualTo(alone[t, c]), $"thread {t}, call {c}");
    }
}
