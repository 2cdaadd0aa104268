using DiffKernels.Diffusion.Training;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Data;

/// <summary>
/// An <see cref="ImageDataset"/> as trainer data: batch k is batch k of the <see cref="ShuffledBatches"/>
/// stream seeded by the generator's seed, so it depends on the step and the seed only and a resumed run
/// sees the same batches. Specs: "fmnist" (the Fashion-MNIST training set), "fmnist:N" (its first N
/// images), "folder:DIR" (an <see cref="ImageFolder"/>).
/// </summary>
public sealed class ImageDataSource : IDataSource
{
    /// <summary>The spec of the Fashion-MNIST training set.</summary>
    public const string FashionSpec = "fmnist";

    /// <summary>The spec prefix of an image folder.</summary>
    public const string FolderPrefix = "folder:";

    private readonly Dictionary<(int, ulong), ShuffledBatches> _streams = [];

    /// <summary>
    /// Serves <paramref name="data"/> under the spec <paramref name="name"/>; <paramref name="crop"/> pixels of
    /// padding per side are dropped again from exported samples (see <see cref="IDataSource.Crop"/>).
    /// </summary>
    public ImageDataSource(ImageDataset data, string name, int crop = 0)
    {
        if (crop < 0 || 2 * crop >= Math.Min(data.Height, data.Width))
            throw new ArgumentException($"ImageDataSource: crop {crop} does not fit {data.Height}×{data.Width} images");
        Data = data;
        Name = name;
        Crop = crop;
    }

    /// <summary>
    /// The Fashion-MNIST training set from <paramref name="directory"/> (default install location), optionally
    /// only its first <paramref name="limit"/> images; the 28×28 images are padded to 32×32, so Crop is 2.
    /// </summary>
    public static ImageDataSource Fashion(string? directory = null, int? limit = null) =>
        new(FashionMnist.Load(FashionSplit.Train, directory, limit), limit is int n ? $"{FashionSpec}:{n}" : FashionSpec,
            (FashionMnist.Size - FashionMnist.RawSize) / 2);

    /// <summary>
    /// The source a spec names: "fmnist" or "fmnist:N" (read from <paramref name="fashionDirectory"/>, default
    /// install location) or "folder:DIR"; null when the spec is none of these.
    /// </summary>
    public static ImageDataSource? FromSpec(string spec, string? fashionDirectory = null)
    {
        if (spec == FashionSpec) return Fashion(fashionDirectory);
        if (spec.StartsWith(FashionSpec + ":", StringComparison.Ordinal))
        {
            string count = spec[(FashionSpec.Length + 1)..];
            if (!int.TryParse(count, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1)
                throw new ArgumentException($"data '{spec}': '{count}' is not a positive number of images");
            return Fashion(fashionDirectory, n);
        }
        if (spec.StartsWith(FolderPrefix, StringComparison.Ordinal)) return Folder(spec[FolderPrefix.Length..]);
        return null;
    }

    /// <summary>The PNG/JPEG images of <paramref name="directory"/> as 32×32 greyscale (subfolders are classes).</summary>
    public static ImageDataSource Folder(string directory) =>
        new(ImageFolder.Load(directory).Data, FolderPrefix + Path.GetFullPath(directory));

    /// <summary>The images served.</summary>
    public ImageDataset Data { get; }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public Shape SampleShape => Data.SampleShape;

    /// <inheritdoc/>
    public int NumClasses => Data.NumClasses;

    /// <inheritdoc/>
    public int Crop { get; }

    /// <inheritdoc/>
    public DataBatch Batch(long step, int batchSize, Generator gen, Device? device = null)
    {
        if (!_streams.TryGetValue((batchSize, gen.Seed), out var stream))
            _streams[(batchSize, gen.Seed)] = stream = new ShuffledBatches(Data, batchSize, gen.Seed);
        var (x, labels) = stream.At(step, device);
        if (NumClasses > 0) return new DataBatch(x, labels);
        labels.Dispose();
        return new DataBatch(x, null);
    }
}
