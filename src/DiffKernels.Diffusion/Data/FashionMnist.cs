namespace DiffKernels.Diffusion.Data;

/// <summary>Which half of Fashion-MNIST to load.</summary>
public enum FashionSplit
{
    /// <summary>The 60,000 training images.</summary>
    Train,
    /// <summary>The 10,000 test images.</summary>
    Test,
}

/// <summary>
/// Fashion-MNIST from its four IDX files (gzip-compressed or raw): 28×28 grey images padded to 32×32
/// with background and scaled from [0, 255] to [−1, 1], NHWC with one channel, labels 0–9.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>How to get the dataset, quoted in every error.</summary>
    public const string InstallHint = "install it with `apt-get install dataset-fashion-mnist` or pass --data-dir DIR holding the four IDX files";

    /// <summary>Side of the stored images.</summary>
    public const int RawSize = 28;

    /// <summary>Side after padding.</summary>
    public const int Size = 32;

    /// <summary>Number of classes.</summary>
    public const int NumClasses = 10;

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The base file names (without ".gz") of the images and labels of <paramref name="split"/>.</summary>
    public static (string Images, string Labels) FileNames(FashionSplit split) => split switch
    {
        FashionSplit.Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        FashionSplit.Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };

    /// <summary>
    /// Loads <paramref name="split"/> from <paramref name="directory"/> (default
    /// <see cref="DefaultDirectory"/>), keeping the first <paramref name="limit"/> images when given.
    /// A missing file raises <see cref="FileNotFoundException"/>, a malformed one or an image/label count
    /// mismatch <see cref="IdxFormatException"/>; each message names the file and how to get the data.
    /// </summary>
    public static ImageDataset Load(FashionSplit split, string? directory = null, int? limit = null)
    {
        string dir = directory ?? DefaultDirectory;
        var (imagesName, labelsName) = FileNames(split);
        var images = ReadIdx(dir, imagesName, rank: 3);
        var labels = ReadIdx(dir, labelsName, rank: 1);
        if (images.Dims[1] != RawSize || images.Dims[2] != RawSize)
            throw new IdxFormatException($"Fashion-MNIST: {imagesName} holds {images.Dims[1]}×{images.Dims[2]} images, expected {RawSize}×{RawSize}; {InstallHint}");
        if (images.Count != labels.Count)
            throw new IdxFormatException($"Fashion-MNIST: {imagesName} holds {images.Count} images but {labelsName} {labels.Count} labels in {dir}; {InstallHint}");
        CheckLabels(labels, labelsName);

        int n = Math.Min(images.Count, limit ?? int.MaxValue);
        var pixels = Pad(images.Data, n);
        var ids = labels.Data.AsSpan(0, n).ToArray().Select(b => (int)b).ToArray();
        return new ImageDataset(pixels, ids, Size, Size, 1, NumClasses);
    }

    /// <summary>
    /// The labels of <paramref name="split"/> alone (the image file is not read), checked as <see cref="Load"/> checks
    /// them: to pick images by class before loading them.
    /// </summary>
    public static int[] Labels(FashionSplit split, string? directory = null)
    {
        string dir = directory ?? DefaultDirectory;
        string labelsName = FileNames(split).Labels;
        var labels = ReadIdx(dir, labelsName, rank: 1);
        CheckLabels(labels, labelsName);
        return labels.Data.Select(b => (int)b).ToArray();
    }

    /// <summary>
    /// 28×28 bytes → 32×32 floats in [−1, 1]: v/127.5 − 1, with a 2-pixel border of −1 (the
    /// background value, so padding looks like more background).
    /// </summary>
    internal static float[] Pad(byte[] raw, int count)
    {
        const int border = (Size - RawSize) / 2;
        var x = new float[(long)count * Size * Size];
        Array.Fill(x, -1f);
        for (int i = 0; i < count; i++)
            for (int r = 0; r < RawSize; r++)
            {
                int src = (i * RawSize + r) * RawSize, dst = (i * Size + r + border) * Size + border;
                for (int c = 0; c < RawSize; c++) x[dst + c] = raw[src + c] / 127.5f - 1f;
            }
        return x;
    }

    private static void CheckLabels(IdxFile labels, string name)
    {
        int bad = Array.FindIndex(labels.Data, l => l >= NumClasses);
        if (bad >= 0)
            throw new IdxFormatException($"Fashion-MNIST: {name} label {labels.Data[bad]} at {bad} is not a class 0–9; {InstallHint}");
    }

    private static IdxFile ReadIdx(string dir, string name, int rank)
    {
        string gz = Path.Combine(dir, name + ".gz"), raw = Path.Combine(dir, name);
        string? path = File.Exists(gz) ? gz : File.Exists(raw) ? raw : null;
        if (path == null)
        {
            string where = Directory.Exists(dir) ? dir : $"{dir} (no such directory)";
            throw new FileNotFoundException($"Fashion-MNIST: {name}.gz (or {name}) not found in {where}; {InstallHint}", gz);
        }
        try
        {
            return IdxFile.Read(path, rank);
        }
        catch (IdxFormatException e)
        {
            throw new IdxFormatException($"Fashion-MNIST: {e.Message}; {InstallHint}", e);
        }
    }
}
