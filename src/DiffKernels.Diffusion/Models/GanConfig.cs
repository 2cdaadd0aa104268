using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The shape of a DCGAN-style pair, stored as JSON in the checkpoint of each network (both kinds share it).
/// The <see cref="GanGenerator"/> maps z [LatentDim] (plus a one-hot label) by a linear layer to a
/// base×base×GeneratorWidths[0] map, base = ImageSize / 2^|GeneratorWidths|, then per further width: 2× nearest
/// upsample, 3×3 convolution, GroupNorm + SiLU; a last upsample and 3×3 convolution to Channels, then tanh.
/// The <see cref="GanDiscriminator"/> mirrors it: per entry of DiscriminatorWidths a 3×3 convolution,
/// LeakyReLU(0.2) and 2×2 average pooling, a linear layer to FeatureDim features (LeakyReLU), and a logit
/// with a class projection ⟨embed(c), features⟩ when conditional.
/// </summary>
/// <param name="ImageSize">Side of the square images.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="LatentDim">Width of the latent z.</param>
/// <param name="GeneratorWidths">Channels of the generator's maps from the smallest resolution up.</param>
/// <param name="DiscriminatorWidths">Channels of the discriminator's stages from the full resolution down.</param>
/// <param name="FeatureDim">Width of the discriminator's feature layer.</param>
/// <param name="NumClasses">Classes for conditioning (0: unconditional).</param>
/// <param name="Groups">GroupNorm groups of the generator.</param>
public sealed record GanConfig(
    int ImageSize,
    int Channels,
    int LatentDim,
    IReadOnlyList<int> GeneratorWidths,
    IReadOnlyList<int> DiscriminatorWidths,
    int FeatureDim,
    int NumClasses = 0,
    int Groups = 8)
{

    /// <summary>The kind string of generator checkpoints.</summary>
    public const string GeneratorKind = "gan_generator";

    /// <summary>The kind string of discriminator checkpoints (stored inside GAN training checkpoints).</summary>
    public const string DiscriminatorKind = "gan_discriminator";

    /// <summary>
    /// The Fashion-MNIST pair: 32×32×1, z of 64, generator 4×4×128 → 8×8×64 → 16×16×32 → 32×32×1,
    /// discriminator 32-64-128 with 128 features. Small enough to train on two CPU cores in minutes.
    /// </summary>
    public static GanConfig FashionMnist(int numClasses = 10) => new(32, 1, 64, [128, 64, 32], [32, 64, 128], 128, numClasses);

    /// <summary>Throws an ArgumentException naming the first inconsistent field.</summary>
    public void Validate()
    {
        void Fail(string why) => throw new ArgumentException($"GanConfig: {why}");
        if (ImageSize < 1 || Channels < 1) Fail($"image size {ImageSize} and channels {Channels} must be positive");
        if (LatentDim < 1) Fail($"latent width {LatentDim} must be positive");
        if (GeneratorWidths is null || GeneratorWidths.Count == 0) Fail("generator widths must be a non-empty list");
        if (DiscriminatorWidths is null || DiscriminatorWidths.Count == 0) Fail("discriminator widths must be a non-empty list");
        if (ImageSize % (1 << GeneratorWidths!.Count) != 0) Fail($"image size {ImageSize} is not the base size times 2^{GeneratorWidths.Count}");
        if (ImageSize % (1 << DiscriminatorWidths!.Count) != 0) Fail($"image size {ImageSize} cannot be halved {DiscriminatorWidths.Count} times");
        if (Groups < 1 || GeneratorWidths.Any(w => w < 1 || w % Groups != 0)) Fail($"{Groups} groups must divide every generator width [{string.Join(", ", GeneratorWidths)}]");
        if (DiscriminatorWidths.Any(w => w < 1)) Fail($"discriminator widths [{string.Join(", ", DiscriminatorWidths)}] must be positive");
        if (FeatureDim < 1) Fail($"feature width {FeatureDim} must be positive");
        if (NumClasses < 0 || NumClasses == 1) Fail($"classes {NumClasses} must be 0 (unconditional) or at least 2");
    }

    /// <summary>The config as JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.GanConfig);

    /// <summary>Parses JSON written by <see cref="ToJson"/> and validates it.</summary>
    public static GanConfig FromJson(string json)
    {
        GanConfig? c;
        try
        {
            c = JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.GanConfig);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"GanConfig: malformed JSON ({e.Message})", e);
        }
        if (c is null) throw new ArgumentException("GanConfig: JSON is null");
        c.Validate();
        return c;
    }

    /// <summary>Value equality that compares the width lists element by element.</summary>
    public bool Equals(GanConfig? other) =>
        other is not null && ImageSize == other.ImageSize && Channels == other.Channels && LatentDim == other.LatentDim
        && GeneratorWidths.SequenceEqual(other.GeneratorWidths) && DiscriminatorWidths.SequenceEqual(other.DiscriminatorWidths)
        && FeatureDim == other.FeatureDim && NumClasses == other.NumClasses && Groups == other.Groups;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ImageSize, Channels, LatentDim, GeneratorWidths.Count, DiscriminatorWidths.Count, FeatureDim, NumClasses, Groups);
}
