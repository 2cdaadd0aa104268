using DiffKernels.Diffusion.Data;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Diffusion.Data;

/// <summary>The IDX reader and Fashion-MNIST loader on small files the tests write, and shuffled batches.</summary>
public class FmnistDataTests
{
    private const int Px = 28 * 28;

    /// <summary>n images whose pixel (r, c) of image i is (i·7 + r + c) mod 256, labels i mod 10.</summary>
    private static (byte[] Images, byte[] Labels) Fake(int n)
    {
        var img = new byte[n * Px];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++)
                    img[i * Px + r * 28 + c] = (byte)((i * 7 + r + c) % 256);
        return (img, Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray());
    }

    private static void WriteSplit(TempDir dir, FashionSplit split, int n, bool gzip, int? labelCount = null)
    {
        var (img, lab) = Fake(n);
        var (imgName, labName) = FashionMnist.FileNames(split);
        string ext = gzip ? ".gz" : "";
        IdxFile.Write(dir.File(imgName + ext), [n, 28, 28], img, gzip);
        int m = labelCount ?? n;
        IdxFile.Write(dir.File(labName + ext), [m], lab.Concat(new byte[Math.Max(0, m - n)]).Take(m).ToArray(), gzip);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void LoadsPadsAndScalesImagesWithTheirLabels(bool gzip)
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Test, 12, gzip);
        var data = FashionMnist.Load(FashionSplit.Test, dir.Path);
        Assert.That(data.Count, Is.EqualTo(12));
        Assert.That(data.SampleShape.ToArray(), Is.EqualTo(new[] { 32, 32, 1 }));
        Assert.That(data.NumClasses, Is.EqualTo(10));
        Assert.That(data.Labels.ToArray(), Is.EqualTo(Enumerable.Range(0, 12).Select(i => i % 10).ToArray()));
        var (raw, _) = Fake(12);
        for (int i = 0; i < 12; i += 5)
        {
            var im = data.Image(i);
            for (int r = 0; r < 32; r++)
                for (int c = 0; c < 32; c++)
                {
                    bool inside = r >= 2 && r < 30 && c >= 2 && c < 30;
                    float expected = inside ? raw[i * Px + (r - 2) * 28 + c - 2] / 127.5f - 1f : -1f;
                    Assert.That(im[r * 32 + c], Is.EqualTo(expected).Within(1e-6), $"image {i} pixel ({r}, {c})");
                }
        }
        Assert.That(data.Images.ToArray().Min(), Is.GreaterThanOrEqualTo(-1f));
        Assert.That(data.Images.ToArray().Max(), Is.LessThanOrEqualTo(1f));
        Assert.That(FashionMnist.Load(FashionSplit.Test, dir.Path, limit: 4).Count, Is.EqualTo(4));
    }

    [Test]
    public void ByteExtremesMapToMinusOneAndOne()
    {
        var raw = new byte[Px];
        raw[0] = 255;
        var x = FashionMnist.Pad(raw, 1);
        Assert.That(x[2 * 32 + 2], Is.EqualTo(1f));
        Assert.That(x[2 * 32 + 3], Is.EqualTo(-1f));
    }

    [Test]
    public void AMissingFileIsNamedWithHowToGetIt()
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Test, 3, gzip: true);
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(FashionSplit.Train, dir.Path));
        Assert.That(e!.Message, Does.Contain("train-images-idx3-ubyte.gz"));
        Assert.That(e.Message, Does.Contain("apt-get install dataset-fashion-mnist"));
        Assert.That(e.Message, Does.Not.Contain("\n"));

        var e2 = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(FashionSplit.Test, Path.Combine(dir.Path, "nowhere")));
        Assert.That(e2!.Message, Does.Contain("no such directory"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void WrongMagicIsRejected(bool gzip)
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Test, 3, gzip);
        var (imgName, _) = FashionMnist.FileNames(FashionSplit.Test);
        string ext = gzip ? ".gz" : "";
        IdxFile.Write(dir.File(imgName + ext), [3 * Px], new byte[3 * Px], gzip); // a rank-1 file where rank 3 belongs
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Test, dir.Path));
        Assert.That(e!.Message, Does.Contain("wrong magic 0x00000801"));
        Assert.That(e.Message, Does.Contain(imgName + ext));
        Assert.That(e.Message, Does.Contain("apt-get install dataset-fashion-mnist"));
    }

    [Test]
    public void TruncatedRawFileIsRejected()
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Test, 3, gzip: false);
        string path = dir.File(FashionMnist.FileNames(FashionSplit.Test).Images);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Test, dir.Path));
        Assert.That(e!.Message, Does.Contain("truncated"));
        Assert.That(e.Message, Does.Contain($"need {3 * Px} bytes of data, found {3 * Px - 100}"));

        File.WriteAllBytes(path, bytes[..6]);
        Assert.That(Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Test, dir.Path))!.Message, Does.Contain("header ends"));
        File.WriteAllBytes(path, bytes.Concat(new byte[] { 1 }).ToArray());
        Assert.That(Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Test, dir.Path))!.Message, Does.Contain("trailing"));
    }

    [Test]
    public void TruncatedGzipFileIsRejected()
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Train, 4, gzip: true);
        string path = dir.File(FashionMnist.FileNames(FashionSplit.Train).Labels + ".gz");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Train, dir.Path));
        Assert.That(e!.Message, Does.Contain("train-labels-idx1-ubyte.gz"));
        Assert.That(e.Message, Does.Contain("truncated").Or.Contain("corrupt gzip"));
    }

    [Test]
    public void ImageAndLabelCountsMustAgree()
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Test, 5, gzip: true, labelCount: 6);
        var e = Assert.Throws<IdxFormatException>(() => FashionMnist.Load(FashionSplit.Test, dir.Path));
        Assert.That(e!.Message, Does.Contain("5 images but t10k-labels-idx1-ubyte 6 labels"));
    }

    [Test]
    public void ShuffledBatchesAreDeterministicPermutationsAndResumable()
    {
        const int n = 23, b = 5;
        var pixels = Enumerable.Range(0, n * 4).Select(i => (float)(i / 4)).ToArray();
        var data = new ImageDataset(pixels, Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 2, 2, 1, 3);
        var s = new ShuffledBatches(data, b, seed: 9);
        Assert.That(s.BatchesPerEpoch, Is.EqualTo(4));

        var seen = new List<int>();
        for (int k = 0; k < 4; k++)
        {
            var (x, y) = s.Next();
            Assert.That(x.Shape.ToArray(), Is.EqualTo(new[] { b, 2, 2, 1 }));
            var ids = x.ToArray().Where((_, i) => i % 4 == 0).Select(v => (int)v).ToArray();
            Assert.That(y.ToArray(), Is.EqualTo(ids.Select(i => (float)(i % 3)).ToArray()), "labels follow their images");
            seen.AddRange(ids);
            x.Dispose();
            y.Dispose();
        }
        Assert.That(seen, Is.Unique, "no image twice within an epoch");
        Assert.That(seen, Is.Not.Ordered, "shuffled");
        Assert.That(s.Epoch, Is.EqualTo(1));

        // Epochs differ; the same seed replays; a restored Step resumes.
        Assert.That(s.Permutation(1), Is.Not.EqualTo(s.Permutation(0)));
        Assert.That(s.Permutation(0).Order().ToArray(), Is.EqualTo(Enumerable.Range(0, n).ToArray()));
        var again = new ShuffledBatches(data, b, seed: 9) { Step = 6 };
        Assert.That(again.Next().Images.ToArray(), Is.EqualTo(s.At(6).Images.ToArray()));
        Assert.That(new ShuffledBatches(data, b, seed: 10).Permutation(0), Is.Not.EqualTo(s.Permutation(0)));
    }

    [Test]
    public void TheTrainerSourceServesTheSameBatchForTheSameStepAndSeed()
    {
        using var dir = new TempDir();
        WriteSplit(dir, FashionSplit.Train, 30, gzip: true);
        var source = ImageDataSource.Fashion(dir.Path, limit: 20);
        Assert.That(source.Name, Is.EqualTo("fmnist:20"));
        Assert.That(source.NumClasses, Is.EqualTo(10));
        Assert.That(source.SampleShape.ToArray(), Is.EqualTo(new[] { 32, 32, 1 }));
        using var scope = Tensor.Scope();
        var a = source.Batch(7, 6, new Generator(3, offset: 100));
        var b = ImageDataSource.Fashion(dir.Path, limit: 20).Batch(7, 6, new Generator(3));
        Assert.That(a.X.ToArray(), Is.EqualTo(b.X.ToArray()), "step and seed decide; the generator's offset does not");
        Assert.That(a.Labels!.ToArray(), Is.EqualTo(b.Labels!.ToArray()));
        Assert.That(source.Batch(8, 6, new Generator(3)).X.ToArray(), Is.Not.EqualTo(a.X.ToArray()));
        Assert.That(ImageDataSource.Fashion(dir.Path).Name, Is.EqualTo("fmnist"));

        var unlabelled = new ImageDataSource(new ImageDataset(new float[40], new int[10].Select(_ => -1).ToArray(), 2, 2, 1, 0), "toy-images");
        Assert.That(unlabelled.Batch(0, 4, new Generator(1)).Labels, Is.Null);
    }

    [Test]
    public void TheInstalledTestSplitLoadsWhenPresent()
    {
        Assume.That(Directory.Exists(FashionMnist.DefaultDirectory), "Fashion-MNIST is not installed here");
        var data = FashionMnist.Load(FashionSplit.Test);
        Assert.That(data.Count, Is.EqualTo(10_000));
        var counts = new int[10];
        foreach (var l in data.Labels) counts[l]++;
        Assert.That(counts, Is.All.EqualTo(1000));
        double mean = data.Images.ToArray().Average(v => (double)v);
        Assert.That(mean, Is.InRange(-0.6, -0.3), "mostly dark background");
    }
}
