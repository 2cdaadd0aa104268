using DiffKernels.Diffusion.Data;
using DiffKernels.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Tests.Diffusion.Data;

public class ImageGridTests
{
    [Test]
    public void TilesImagesRowByRowWithAGutterAndMapsMinusOneToOne()
    {
        using var dir = new TempDir();
        using var _ = Tensor.Scope();
        // 5 grey 4×3 images: image k is filled with −1 + k/2 (so 0 → black, 4 → white), one pixel of image 1 is 1.
        var v = new float[5 * 4 * 3];
        for (int k = 0; k < 5; k++) for (int i = 0; i < 12; i++) v[k * 12 + i] = -1 + k / 2f;
        v[12 + 3 * 2 + 1] = 1;
        ImageGrid.Save(dir.File("grid.png"), Tensor.FromArray(v, 5, 4, 3, 1), columns: 3);
        using var image = Image.Load<Rgba32>(dir.File("grid.png"));
        Assert.That((image.Width, image.Height), Is.EqualTo((3 * 5 + 2, 2 * 6 + 2)));
        Assert.That(image[2, 2].R, Is.Zero);
        Assert.That(image[7, 2].R, Is.EqualTo(64), "−0.5 → 63.75 rounds to 64");
        Assert.That(image[7 + 1, 2 + 2].R, Is.EqualTo(255), "row 2, column 1 of image 1");
        Assert.That(image[2 + 5, 2 + 6].R, Is.EqualTo(255), "image 4 starts the second row, second column");
        Assert.That(image[0, 0], Is.EqualTo(new Rgba32(128, 128, 128)), "gutter");
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(dir.File("bad.png"), Tensor.Zeros([2, 4, 4, 2])));
    }
}
