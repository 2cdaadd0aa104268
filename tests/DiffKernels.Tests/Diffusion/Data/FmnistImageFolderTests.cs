using DiffKernels.Diffusion.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Tests.Diffusion.Data;

/// <summary>Folders of PNG/JPEG images as greyscale 32×32 datasets.</summary>
public class FmnistImageFolderTests
{
    private static void WriteImage(string path, int w, int h, Func<int, int, Rgba32> colour)
    {
        using var img = new Image<Rgba32>(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img[x, y] = colour(x, y);
        if (path.EndsWith(".png", StringComparison.Ordinal)) img.SaveAsPng(path);
        else img.SaveAsJpeg(path);
    }

    [Test]
    public void FlatFolderLoadsUnlabelledGreyImagesInMinusOneToOne()
    {
        using var dir = new TempDir();
        WriteImage(dir.File("a.png"), 64, 64, (_, _) => new Rgba32(255, 255, 255));
        WriteImage(dir.File("b.jpg"), 32, 32, (_, _) => new Rgba32(0, 0, 0));
        // Wider than tall: the centre square (black) is kept, the white side bands are cropped away.
        WriteImage(dir.File("c.png"), 96, 32, (x, _) => x < 32 || x >= 64 ? new Rgba32(255, 255, 255) : new Rgba32(0, 0, 0));
        File.WriteAllText(dir.File("notes.txt"), "ignored");
        var (data, names) = ImageFolder.Load(dir.Path);
        Assert.That(names, Is.Empty);
        Assert.That(data.Count, Is.EqualTo(3));
        Assert.That(data.NumClasses, Is.EqualTo(0));
        Assert.That(data.Labels.ToArray(), Is.All.EqualTo(-1));
        Assert.That(data.SampleShape.ToArray(), Is.EqualTo(new[] { 32, 32, 1 }));
        Assert.That(data.Image(0).ToArray(), Is.All.EqualTo(1f).Within(1e-6));
        Assert.That(data.Image(1).ToArray(), Is.All.EqualTo(-1f).Within(0.05));
        Assert.That(data.Image(2).ToArray(), Is.All.EqualTo(-1f).Within(0.05));
    }

    [Test]
    public void SubfoldersBecomeClassesInNameOrder()
    {
        using var dir = new TempDir();
        foreach (var (cls, v) in new[] { ("zebra", (byte)200), ("ant", (byte)50) })
        {
            Directory.CreateDirectory(dir.File(cls));
            for (int i = 0; i < 2; i++) WriteImage(Path.Combine(dir.File(cls), $"{i}.png"), 40, 40, (_, _) => new Rgba32(v, v, v));
        }
        Directory.CreateDirectory(dir.File("empty"));
        var (data, names) = ImageFolder.Load(dir.Path, size: 8);
        Assert.That(names, Is.EqualTo(new[] { "ant", "zebra" }));
        Assert.That(data.Labels.ToArray(), Is.EqualTo(new[] { 0, 0, 1, 1 }));
        Assert.That(data.SampleShape.ToArray(), Is.EqualTo(new[] { 8, 8, 1 }));
        Assert.That(data.Image(0)[0], Is.EqualTo(50 / 127.5f - 1f).Within(1e-5));
        Assert.That(data.Image(3)[0], Is.EqualTo(200 / 127.5f - 1f).Within(1e-5));
    }

    [Test]
    public void BadFoldersAndFilesAreNamed()
    {
        using var dir = new TempDir();
        Assert.That(Assert.Throws<IOException>(() => ImageFolder.Load(dir.Path))!.Message, Does.Contain("no PNG or JPEG"));
        Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(dir.File("missing")));
        File.WriteAllText(dir.File("broken.png"), "not an image");
        var e = Assert.Throws<IOException>(() => ImageFolder.Load(dir.Path));
        Assert.That(e!.Message, Does.Contain("broken.png"));
    }
}
