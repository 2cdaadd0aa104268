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
        using var model = PretrainedModel.Load(Fashion);
        ConcurrentCalls.AssertSameAsAlone(threads: 4, calls: 3,
            (thread, call) => model.Generate(3, seed: (ulong)(thread * 10 + call), classLabel: (thread + call) % 10));
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
