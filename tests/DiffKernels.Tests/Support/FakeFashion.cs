using DiffKernels.Diffusion.Data;
using DiffKernels.Diffusion.Models;
using DiffKernels.Random;

namespace DiffKernels.Tests.Support;

/// <summary>Fashion-MNIST-shaped IDX files and a tiny metric classifier, for tests that must not need the real data set.</summary>
public static class FakeFashion
{
    /// <summary>Writes train and test IDX files of <paramref name="n"/> random 28×28 images each (labels i mod 10) into a new folder of <paramref name="dir"/>.</summary>
    internal static string Write(TempDir dir, int n = 24)
    {
        string data = dir.File("fmnist");
        Directory.CreateDirectory(data);
        var rng = new System.Random(1);
        foreach (var split in new[] { FashionSplit.Train, FashionSplit.Test })
        {
            var images = new byte[n * 28 * 28];
            rng.NextBytes(images);
            var (imageFile, labelFile) = FashionMnist.FileNames(split);
            IdxFile.Write(Path.Combine(data, imageFile + ".gz"), [n, 28, 28], images, gzip: true);
            IdxFile.Write(Path.Combine(data, labelFile + ".gz"), [n], Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray(), gzip: true);
        }
        return data;
    }

    /// <summary>An untrained metric classifier (the smoke tests check plumbing, not quality).</summary>
    internal static string TinyClassifier(TempDir dir)
    {
        string path = dir.File("classifier.safetensors");
        using var clf = new Classifier(new ClassifierConfig(32, 1, [4, 8], 8, 10, Groups: 4), new Generator(2));
        clf.Save(path);
        return path;
    }

    /// <summary>Writes train and test IDX files of random bytes, brighter for higher labels.</summary>
    internal static void WriteBrighterByLabel(string dir, int train, int test, int seed)
    {
        var rng = new System.Random(seed);
        foreach (var (split, n) in new[] { (FashionSplit.Train, train), (FashionSplit.Test, test) })
        {
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
            var img = new byte[n * 784];
            for (int i = 0; i < img.Length; i++) img[i] = (byte)rng.Next(0, 100 + 15 * labels[i / 784]);
            var (imgName, labName) = FashionMnist.FileNames(split);
            IdxFile.Write(Path.Combine(dir, imgName + ".gz"), [n, 28, 28], img, gzip: true);
            IdxFile.Write(Path.Combine(dir, labName + ".gz"), [n], labels, gzip: true);
        }
    }
}
