using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffKernels.Diffusion.Sampling;

/// <summary>Samples of an image model as ImageSharp images, for an application to show, compose or save.</summary>
public static class PretrainedModelImages
{
    /// <summary>
    /// Draws <paramref name="n"/> images as <see cref="PretrainedModel.Generate"/> does (same seed, same class, same
    /// values) and returns them as 8-bit RGB images of <see cref="PretrainedModel.SampleShape"/>'s height and width,
    /// −1 black and 1 white (a one-channel model gives grey images). The caller disposes them. A model of 2D points
    /// throws an <see cref="InvalidInputException"/> naming its file.
    /// </summary>
    public static Image<Rgb24>[] GenerateImages(this PretrainedModel model, int n, ulong seed = 0, int? classLabel = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shape = model.SampleShape;
        if (shape.Rank != 3 || shape[0] is not (1 or 3))
            throw new InvalidInputException(model.FilePath, $"samples of shape {shape} are not images (expected [1 or 3, H, W])");
        return ToImages(model.Generate(n, seed, classLabel), shape[0], shape[1], shape[2]);
    }

    /// <summary>
    /// Images from values laid out N×C×H×W in [−1, 1] (as <see cref="PretrainedModel.Generate"/> returns them) with
    /// <paramref name="channels"/> 1 (grey) or 3 (RGB); values outside the range are clamped.
    /// </summary>
    public static Image<Rgb24>[] ToImages(ReadOnlySpan<float> values, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new InvalidInputException(nameof(channels), $"{channels} channels; images have 1 or 3");
        if (height < 1 || width < 1) throw new InvalidInputException(nameof(height), $"{height}×{width} is not an image size");
        int plane = height * width, per = channels * plane;
        if (values.Length == 0 || values.Length % per != 0)
            throw new InvalidInputException(nameof(values), $"{values.Length} values are not a whole number of {channels}×{height}×{width} images");
        var images = new Image<Rgb24>[values.Length / per];
        for (int k = 0; k < images.Length; k++)
        {
            var v = values.Slice(k * per, per);
            var image = new Image<Rgb24>(width, height);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = y * width + x;
                    byte r = Byte(v[i]);
                    image[x, y] = channels == 1 ? new Rgb24(r, r, r) : new Rgb24(r, Byte(v[plane + i]), Byte(v[2 * plane + i]));
                }
            images[k] = image;
        }
        return images;
    }

    private static byte Byte(float v) => (byte)MathF.Round((Math.Clamp(v, -1f, 1f) + 1) * 127.5f);
}
