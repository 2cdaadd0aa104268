using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>Networks and data small enough that a test trains them for a few steps in well under a second.</summary>
public static class TinyModels
{
    /// <summary>A U-Net small enough to train a few steps in a test: 8×8 greyscale, 3 classes.</summary>
    internal static readonly UNetConfig TinyUNet = new(8, 1, 8, [1, 2], 1, [4], Groups: 4, TimeFeatures: 8, EmbedDim: 16, NumClasses: 3);

    /// <summary>Random 8×8 images in [−1, 1] with labels 0..2, served under <paramref name="name"/>.</summary>
    internal static ImageDataSource TinyImages(string name = "tiny", int count = 24)
    {
        var g = new Generator(5);
        var pixels = g.Uniform([count * 64], Device.Cpu).ToArray().Select(u => 2 * u - 1).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % 3).ToArray();
        return new ImageDataSource(new ImageDataset(pixels, labels, 8, 8, 1, 3), name);
    }

    /// <summary>A GAN small enough to train a few steps in a test, on <see cref="TwoLevelImages"/>.</summary>
    internal static GanConfig Gan(int classes = 0) => new(TwoLevelImages.Side, 1, 8, [16, 8], [8, 16], 16, classes, Groups: 4);

    /// <summary>
    /// A small random 32×32 U-Net teacher with <paramref name="classes"/> classes (0: unconditional) saved in
    /// <paramref name="dir"/>, recording fmnist as its data, a 2-pixel crop and a 2-level sampler (a release checkpoint).
    /// Its zero-initialised parameters are drawn at random (<see cref="LabelSensitive"/>).
    /// </summary>
    internal static string FashionTeacherFile(TempDir dir, int classes = 10)
    {
        string path = dir.File($"fmnist-teacher-{classes}.safetensors");
        using var net = new UNet(new UNetConfig(32, 1, 4, [1, 2], 1, [], Groups: 2, TimeFeatures: 8, EmbedDim: 16, NumClasses: classes), new Generator(4));
        LabelSensitive(net);
        ModelFactory.Save(path, net, extraMetadata: new Dictionary<string, string> { ["crop"] = "2", ["sampler_steps"] = "2", ["train.data"] = "fmnist" });
        return path;
    }

    /// <summary>
    /// Draws every parameter of <paramref name="net"/> that starts at zero (a U-Net's output layer and the last
    /// convolution of each residual branch) at random: a fresh network's samples would not depend on their labels.
    /// </summary>
    internal static void LabelSensitive(Module net)
    {
        var gen = new Generator(5);
        foreach (var (_, p) in net.NamedParameters())
            if (p.ToArray().All(v => v == 0)) Init.Normal(p, 0f, 0.2f, gen);
    }

    /// <summary>A small random Mlp teacher saved in <paramref name="dir"/>, recording toy:moons as its data (a release checkpoint).</summary>
    internal static string ToyTeacherFile(TempDir dir)
    {
        string path = dir.File("teacher.safetensors");
        using var net = new Mlp(new MlpConfig(Hidden: 16), new Generator(4));
        ModelFactory.Save(path, net, extraMetadata: new Dictionary<string, string> { ["train.data"] = "toy:moons" });
        return path;
    }
}
