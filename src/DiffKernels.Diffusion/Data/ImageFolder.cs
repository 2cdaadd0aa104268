using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// A folder of PNG/JPEG images as a greyscale dataset: each image is centre-cropped to a square,
/// resized to size × size, converted to grey and scaled to [−1, 1]. When the folder holds
/// subfolders with images, each subfolder (in ordinal name order) is a class; otherwise the images
/// directly in the folder are read unlabelled (label −1, no classes).
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>Loads <paramref name="directory"/>; see the class summary. The class names come back alongside (empty when unlabelled).</summary>
    public static (ImageDataset Data, IReadOnlyList<string> ClassNames) Load(string directory, int size = 32, int? limit = null)
    {
        if (size < 1) throw new ArgumentException($"ImageFolder: size must be positive, got {size}");
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"ImageFolder: {directory}: no such directory");

        var classDirs = Directory.EnumerateDirectories(directory)
            .Where(d => ImagesIn(d).Any())
            .Order(StringComparer.Ordinal).ToList();
        var files = new List<(string Path, int Label)>();
        if (classDirs.Count > 0)
            for (int c = 0; c < classDirs.Count; c++)
                files.AddRange(ImagesIn(classDirs[c]).Select(f => (f, c)));
        else
            files.AddRange(ImagesIn(directory).Select(f => (f, -1)));
        if (files.Count == 0) throw new IOException($"ImageFolder: {directory}: no PNG or JPEG images (directly or in class subfolders)");
        if (limit is int l) files = files.Take(Math.Max(0, l)).ToList();

        var pixels = new float[files.Count * size * size];
        for (int i = 0; i < files.Count; i++) ReadGrey(files[i].Path, size, pixels.AsSpan(i * size * size, size * size));
        var names = classDirs.Select(d => Path.GetFileName(d)!).ToList();
        return (new ImageDataset(pixels, files.Select(f => f.Label).ToArray(), size, size, 1, names.Count), names);
    }

    private static IEnumerable<string> ImagesIn(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal);

    private static void ReadGrey(string path, int size, Span<float> dst)
    {
        Image<L8> img;
        try
        {
            img = Image.Load<L8>(path);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException)
        {
            throw new IOException($"ImageFolder: {path}: not a readable PNG/JPEG image ({e.Message})", e);
        }
        using (img)
        {
            int side = Math.Min(img.Width, img.Height);
            img.Mutate(m => m.Crop(new Rectangle((img.Width - side) / 2, (img.Height - side) / 2, side, side)).Resize(size, size));
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    dst[y * size + x] = img[x, y].PackedValue / 127.5f - 1f;
        }
    }
}
