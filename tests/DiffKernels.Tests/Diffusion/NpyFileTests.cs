using DiffKernels.Diffusion.Sampling;
using DiffKernels.Tests.IO;

namespace DiffKernels.Tests.Diffusion;

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
