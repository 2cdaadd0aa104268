using DiffKernels.Diffusion.Sampling;

namespace DiffKernels.Tests.Diffusion.Sampling;

public class NpyFileTests
{
    [Test]
    public void RoundTripsWithANumpyCompatibleAlignedHeader()
    {
        using var dir = new TempDir();
        string path = dir.File("a.npy");
        var data = Enumerable.Range(0, 24).Select(i => i * 0.5f - 3).ToArray();
        NpyFile.Write(path, data, [2, 1, 3, 4]);
        var bytes = File.ReadAllBytes(path);
        Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }));
        int headerLength = bytes[8] | bytes[9] << 8;
        Assert.That((10 + headerLength) % 64, Is.Zero);
        Assert.That(System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength), Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 3, 4), }").And.EndWith("\n"));
        Assert.That(bytes.Length, Is.EqualTo(10 + headerLength + 24 * 4));
        var (back, shape) = NpyFile.Read(path);
        Assert.That(shape, Is.EqualTo(new[] { 2, 1, 3, 4 }));
        Assert.That(back, Is.EqualTo(data));

        NpyFile.Write(path, [1f, 2f], [2]);
        Assert.That(NpyFile.Read(path).Shape, Is.EqualTo(new[] { 2 }));
        Assert.That(System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path), 10, 60), Does.Contain("'shape': (2,)"));
        Assert.That(dir.Entries(), Is.EqualTo(new[] { "a.npy" }), "no temporary file left behind");
    }

    [Test]
    public void RejectsMismatchedShapesAndOtherLayouts()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => NpyFile.Write(dir.File("x.npy"), [1f, 2f, 3f], [2, 2]));
        string path = dir.File("f8.npy");
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }".PadRight(117) + "\n";
        File.WriteAllBytes(path, [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0, .. System.Text.Encoding.ASCII.GetBytes(header), .. new byte[8]]);
        Assert.That(Assert.Throws<InvalidDataException>(() => NpyFile.Read(path))!.Message, Does.Contain("float32"));
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => NpyFile.Read(path));
    }
}

public class SampleExportTests
{
    [Test]
    public void PointsStayImagesAreCroppedAndBecomeNchw()
    {
        using var _ = DiffKernels.Tensors.Tensor.Scope();
        var points = DiffKernels.Tensors.Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        Assert.That(SampleExport.ForNpy(points), Is.EqualTo((new[] { 1f, 2f, 3f, 4f, 5f, 6f }, new[] { 3, 2 })));

        // Two 6×5 images with 2 channels: value = (1000n + 100y + 10x + c) / 10⁴, inside [−1, 1].
        var v = new float[2 * 6 * 5 * 2];
        for (int n = 0; n < 2; n++) for (int y = 0; y < 6; y++) for (int x = 0; x < 5; x++) for (int c = 0; c < 2; c++)
            v[((n * 6 + y) * 5 + x) * 2 + c] = (1000 * n + 100 * y + 10 * x + c) / 1e4f;
        var (data, shape) = SampleExport.ForNpy(DiffKernels.Tensors.Tensor.FromArray(v, 2, 6, 5, 2), crop: 1);
        Assert.That(shape, Is.EqualTo(new[] { 2, 2, 4, 3 }));
        // [n, c, y', x'] holds pixel (y' + 1, x' + 1).
        Assert.That(data[0], Is.EqualTo(110 / 1e4f));
        Assert.That(data[1 * 12 + 2 * 3 + 1], Is.EqualTo((0 + 300 + 20 + 1) / 1e4f));
        Assert.That(data[^1], Is.EqualTo((1000 + 400 + 30 + 1) / 1e4f));
        Assert.Throws<ArgumentException>(() => SampleExport.ForNpy(DiffKernels.Tensors.Tensor.Zeros([1, 4, 4, 1]), crop: 2));
    }

    [Test]
    public void ImagesAreClippedToTheDataRangePointsAreNot()
    {
        using var _ = DiffKernels.Tensors.Tensor.Scope();
        var image = DiffKernels.Tensors.Tensor.FromArray([-1.3f, -0.5f, 0.25f, 1.2f], 1, 2, 2, 1);
        Assert.That(SampleExport.ForNpy(image).Data, Is.EqualTo(new[] { -1f, -0.5f, 0.25f, 1f }));
        var points = DiffKernels.Tensors.Tensor.FromArray([-3f, 2.5f], 1, 2);
        Assert.That(SampleExport.ForNpy(points).Data, Is.EqualTo(new[] { -3f, 2.5f }));
    }

    [Test]
    public void AWriterInPartsWritesTheFileOfOneWriteAndOnlyOnCommit()
    {
        using var dir = new TempDir();
        var data = Enumerable.Range(0, 30).Select(i => i * 0.25f).ToArray();
        NpyFile.Write(dir.File("whole.npy"), data, [5, 6]);
        using (var writer = new NpyWriter(dir.File("parts.npy"), [5, 6]))
        {
            writer.Append(data.AsSpan(0, 12));
            Assert.That(File.Exists(dir.File("parts.npy")), Is.False, "nothing in place before the commit");
            writer.Append(data.AsSpan(12));
            writer.Commit();
        }
        Assert.That(File.ReadAllBytes(dir.File("parts.npy")), Is.EqualTo(File.ReadAllBytes(dir.File("whole.npy"))));
        Assert.That(NpyWriter.FileBytes([5, 6]), Is.EqualTo(new FileInfo(dir.File("whole.npy")).Length));

        using (var short_ = new NpyWriter(dir.File("short.npy"), [5, 6]))
        {
            short_.Append(data.AsSpan(0, 6));
            Assert.Throws<InvalidOperationException>(short_.Commit);
            Assert.Throws<ArgumentException>(() => short_.Append(new float[25]));
        }
        Assert.That(dir.Entries(), Is.EqualTo(new[] { "parts.npy", "whole.npy" }), "an uncommitted file leaves nothing behind");
    }
}
