using DiffKernels.Diffusion.Sampling;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Tests.Diffusion.Sampling;

/// <summary>What an application embedding a committed one-step student relies on: concurrent calls and ImageSharp images.</summary>
public class PretrainedModelEmbeddingTests
{
    private static readonly string Fashion = Path.Combine(RepoFiles.ModelsDir(), "fmnist-diff-instruct-xs.safetensors");

    [Test]
    public void GenerateGivesTheSameImagesFromSeveralThreadsAtOnce()
    {
        const int Threads = 4, PerCall = 3, Calls = 3;
        using var model = PretrainedModel.Load(Fashion);
        float[] Draw(int thread, int call) => model.Generate(PerCall, seed: (ulong)(thread * 10 + call), classLabel: (thread + call) % 10);
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

    [Test]
    public void GenerateImagesGivesTheValuesOfGenerateAsPixels()
    {
        using var model = PretrainedModel.Load(Fashion);
        float[] values = model.Generate(2, seed: 7, classLabel: 3);
        var images = model.GenerateImages(2, seed: 7, classLabel: 3);
        try
        {
            Assert.That(images.Select(i => (i.Width, i.Height)), Is.EqualTo(new[] { (28, 28), (28, 28) }));
            for (int k = 0; k < 2; k++)
                for (int y = 0; y < 28; y += 9)
                    for (int x = 0; x < 28; x += 5)
                    {
                        byte expected = (byte)MathF.Round((values[k * 784 + y * 28 + x] + 1) * 127.5f);
                        Assert.That(images[k][x, y], Is.EqualTo(new Rgb24(expected, expected, expected)), $"image {k} at ({x}, {y})");
                    }
        }
        finally
        {
            foreach (var i in images) i.Dispose();
        }
    }

    [Test]
    public void PointsAreNotImages()
    {
        string toy = Path.Combine(RepoFiles.ModelsDir(), "toy-8gaussians-diff-instruct.safetensors");
        using var model = PretrainedModel.Load(toy);
        var e = Assert.Throws<InvalidInputException>(() => model.GenerateImages(1))!;
        Assert.That(e.Message, Is.EqualTo($"{toy}: samples of shape [2] are not images (expected [1 or 3, H, W])"));
        Assert.That(Assert.Throws<InvalidInputException>(() => PretrainedModelImages.ToImages(new float[10], 1, 2, 2))!.Subject, Is.EqualTo("values"));
    }
}
