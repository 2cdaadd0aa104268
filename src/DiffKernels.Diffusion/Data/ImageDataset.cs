using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// Images held on the host, NHWC float32 in [−1, 1], with integer class labels (−1 where an image has
/// none). Batches are copied to a device on request; <see cref="ShuffledBatches"/> serves them shuffled.
/// </summary>
public sealed class ImageDataset
{
    private readonly float[] _images;
    private readonly int[] _labels;

    /// <summary>
    /// Wraps <paramref name="images"/> (count × height × width × channels values) and one label per
    /// image; labels must be −1 or in [0, <paramref name="numClasses"/>).
    /// </summary>
    public ImageDataset(float[] images, int[] labels, int height, int width, int channels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (height < 1 || width < 1 || channels < 1)
            throw new ArgumentException($"ImageDataset: image shape {height}×{width}×{channels} must be positive");
        long per = (long)height * width * channels;
        if (images.LongLength != per * labels.Length)
            throw new ArgumentException($"ImageDataset: {labels.Length} labels need {per * labels.Length} pixel values for {height}×{width}×{channels} images, got {images.LongLength}");
        if (numClasses < 0) throw new ArgumentException($"ImageDataset: classes must be ≥ 0, got {numClasses}");
        int bad = Array.FindIndex(labels, l => l < -1 || l >= numClasses);
        if (bad >= 0) throw new ArgumentException($"ImageDataset: label {labels[bad]} of image {bad} is outside −1..{numClasses - 1}");
        _images = images;
        _labels = labels;
        Height = height;
        Width = width;
        Channels = channels;
        NumClasses = numClasses;
    }

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Image channels.</summary>
    public int Channels { get; }

    /// <summary>Number of classes (0 when unlabelled).</summary>
    public int NumClasses { get; }

    /// <summary>Shape of one image, [H, W, C].</summary>
    public Shape SampleShape => new(Height, Width, Channels);

    /// <summary>Values per image.</summary>
    public int ImageSize => Height * Width * Channels;

    /// <summary>All pixel values, NHWC.</summary>
    public ReadOnlySpan<float> Images => _images;

    /// <summary>All labels.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Image(int index) => _images.AsSpan(index * ImageSize, ImageSize);

    /// <summary>Images <paramref name="indices"/> as [B, H, W, C] and their labels as floats [B] (the INoiseNet convention).</summary>
    public (Tensor Images, Tensor Labels) Batch(ReadOnlySpan<int> indices, Device? device = null)
    {
        int size = ImageSize;
        var x = new float[indices.Length * size];
        var y = new float[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int j = indices[i];
            if ((uint)j >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"ImageDataset: index {j} outside 0..{Count - 1}");
            _images.AsSpan(j * size, size).CopyTo(x.AsSpan(i * size));
            y[i] = _labels[j];
        }
        return (Tensor.FromSpan(x, new Shape(indices.Length, Height, Width, Channels), device),
                Tensor.FromSpan(y, new Shape(indices.Length), device));
    }

    /// <summary>Images [start, start + count) as a batch (see <see cref="Batch"/>).</summary>
    public (Tensor Images, Tensor Labels) Range(int start, int count, Device? device = null)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"ImageDataset: range [{start}, {start + count}) outside 0..{Count}");
        return Batch(Enumerable.Range(start, count).ToArray(), device);
    }

    /// <summary>The first <paramref name="count"/> images (all when there are fewer) as a new dataset sharing nothing.</summary>
    public ImageDataset Take(int count)
    {
        int n = Math.Clamp(count, 0, Count);
        return new ImageDataset(_images.AsSpan(0, n * ImageSize).ToArray(), _labels.AsSpan(0, n).ToArray(), Height, Width, Channels, NumClasses);
    }
}
