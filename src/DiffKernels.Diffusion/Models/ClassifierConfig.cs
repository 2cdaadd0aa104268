using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The shape of a <see cref="Classifier"/>, serialisable to the JSON stored in its checkpoint: one
/// stage per entry of <see cref="Widths"/> (<see cref="ConvsPerStage"/> 3×3 convolutions, each followed
/// by GroupNorm + SiLU, then 2×2 average pooling), a linear layer to <see cref="FeatureDim"/> features
/// and a linear head.
/// </summary>
/// <param name="ImageSize">Side of the square input.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="Widths">Channels of each stage.</param>
/// <param name="FeatureDim">Width of the penultimate feature layer (the Fréchet-distance features).</param>
/// <param name="NumClasses">Number of output classes.</param>
/// <param name="Groups">GroupNorm groups.</param>
/// <param name="ConvsPerStage">Convolutions per stage.</param>
public sealed record ClassifierConfig(int ImageSize, int Channels, IReadOnlyList<int> Widths, int FeatureDim, int NumClasses, int Groups = 8, int ConvsPerStage = 1)
{

    /// <summary>The kind string stored in checkpoints.</summary>
    public const string Kind = "classifier";

    /// <summary>
    /// The Fashion-MNIST metric classifier: 32×32×1, one convolution per stage at 16-32-64 channels,
    /// 128 features, 10 classes (about 156k parameters: small enough to train in minutes on two cores).
    /// </summary>
    public static ClassifierConfig FashionMnist() => new(32, 1, [16, 32, 64], 128, 10);

    /// <summary>Throws an ArgumentException naming the first inconsistent field.</summary>
    public void Validate()
    {
        void Fail(string why) => throw new ArgumentException($"ClassifierConfig: {why}");
        if (ImageSize < 1 || Channels < 1) Fail($"image size {ImageSize} and channels {Channels} must be positive");
        if (Widths is null || Widths.Count == 0) Fail("widths must be a non-empty list");
        if (ImageSize % (1 << Widths!.Count) != 0) Fail($"image size {ImageSize} cannot be halved {Widths.Count} times");
        if (Groups < 1 || Widths.Any(w => w < 1 || w % Groups != 0)) Fail($"{Groups} groups must divide every width [{string.Join(", ", Widths)}]");
        if (ConvsPerStage < 1) Fail($"convolutions per stage must be ≥ 1, got {ConvsPerStage}");
        if (FeatureDim < 1 || NumClasses < 2) Fail($"feature width {FeatureDim} must be positive and classes {NumClasses} at least 2");
    }

    /// <summary>The config as JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.ClassifierConfig);

    /// <summary>Parses JSON written by <see cref="ToJson"/> and validates it.</summary>
    public static ClassifierConfig FromJson(string json)
    {
        ClassifierConfig? c;
        try
        {
            c = JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.ClassifierConfig);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"ClassifierConfig: malformed JSON ({e.Message})", e);
        }
        if (c is null) throw new ArgumentException("ClassifierConfig: JSON is null");
        c.Validate();
        return c;
    }

    /// <summary>Value equality that compares the widths element by element.</summary>
    public bool Equals(ClassifierConfig? other) =>
        other is not null && ImageSize == other.ImageSize && Channels == other.Channels && Widths.SequenceEqual(other.Widths)
        && FeatureDim == other.FeatureDim && NumClasses == other.NumClasses && Groups == other.Groups
        && ConvsPerStage == other.ConvsPerStage;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ImageSize, Channels, Widths.Count, FeatureDim, NumClasses, Groups);
}
