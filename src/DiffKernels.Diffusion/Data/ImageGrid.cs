using DiffKernels.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Diffusion.Data;

/// <summary>Writes a batch of NHWC images with values in [−1, 1] (1 or 3 channels) as one PNG grid.</summary>
public static class ImageGrid
{
    /// <summary>
    /// Tiles <paramref name="images"/> [N, H, W, C] row by row, <paramref name="columns"/> per row (default ⌈√N⌉),
    /// with a 2-pixel grey gutter. Values are clamped to [−1, 1] and mapped to 0–255.
    /// </summary>
    public static void Save(string path, Tensor images, int? columns = null)
    {
        if (images.Rank != 4 || images.Shape[3] is not (1 or 3))
            throw new ArgumentException($"ImageGrid: images must be [N, H, W, 1 or 3], got {images.Shape}");
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2], c = images.Shape[3];
        if (n == 0) throw new ArgumentException("ImageGrid: no images");
        int cols = columns ?? (int)Math.Ceiling(Math.Sqrt(n));
        if (cols < 1) throw new ArgumentOutOfRangeException(nameof(columns), $"ImageGrid: {cols} columns; need ≥ 1");
        int rows = (n + cols - 1) / cols;
        const int Gutter = 2;
        var v = images.ToArray();
        using var image = new Image<Rgba32>(cols * (w + Gutter) + Gutter, rows * (h + Gutter) + Gutter, new Rgba32(128, 128, 128));
        byte Byte(float x) => (byte)Math.Round((Math.Clamp(x, -1f, 1f) + 1) * 127.5f);
        for (int k = 0; k < n; k++)
        {
            int ox = Gutter + k % cols * (w + Gutter), oy = Gutter + k / cols * (h + Gutter);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    long i = (((long)k * h + y) * w + x) * c;
                    image[ox + x, oy + y] = c == 1
                        ? new Rgba32(Byte(v[i]), Byte(v[i]), Byte(v[i]))
                        : new Rgba32(Byte(v[i]), Byte(v[i + 1]), Byte(v[i + 2]));
                }
        }
        image.SaveAsPng(path);
    }
}
