using System.Text.Json;
using System.Text.Json.Serialization;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The shape of a <see cref="UNet"/>: everything needed to rebuild it, serialisable to the JSON stored
/// in its checkpoint. Resolutions are halved once per entry of <see cref="Multipliers"/> after the first;
/// self-attention follows every residual block whose feature map side is listed in
/// <see cref="AttentionResolutions"/>, and always sits in the middle block.
/// </summary>
/// <param name="ImageSize">Side of the square input (32 for padded Fashion-MNIST).</param>
/// <param name="Channels">Image channels (1 for greyscale).</param>
/// <param name="BaseChannels">Channels at full resolution.</param>
/// <param name="Multipliers">Channel multiplier per level; level i runs at ImageSize / 2^i.</param>
/// <param name="ResBlocks">Residual blocks per level on the down path (the up path has one more).</param>
/// <param name="AttentionResolutions">Feature map sides at which attention follows each residual block.</param>
/// <param name="Groups">GroupNorm groups.</param>
/// <param name="TimeFeatures">Width of the sinusoidal features of c_noise.</param>
/// <param name="EmbedDim">Width of the time (and class) embedding.</param>
/// <param name="NumClasses">Classes for conditioning; 0 for an unconditional model.</param>
public sealed record UNetConfig(
    int ImageSize,
    int Channels,
    int BaseChannels,
    IReadOnlyList<int> Multipliers,
    int ResBlocks,
    IReadOnlyList<int> AttentionResolutions,
    int Groups = 8,
    int TimeFeatures = 32,
    int EmbedDim = 128,
    int NumClasses = 0)
{

    /// <summary>The kind string stored in checkpoints.</summary>
    public const string Kind = "unet";

    /// <summary>UNet-S: base 32, multipliers (1, 2, 2), two blocks per level, attention at 8×8 (1,742,881 parameters unconditional).</summary>
    public static UNetConfig S(int numClasses = 0) => new(32, 1, 32, [1, 2, 2], 2, [8], NumClasses: numClasses);

    /// <summary>UNet-XS: UNet-S with base 16 and one block per level, for fast CPU runs and tests.</summary>
    public static UNetConfig XS(int numClasses = 0) => new(32, 1, 16, [1, 2, 2], 1, [8], NumClasses: numClasses);

    /// <summary>The preset called <paramref name="name"/> ("s" or "xs", any case).</summary>
    public static UNetConfig Preset(string name, int numClasses = 0) => name.ToLowerInvariant() switch
    {
        "s" => S(numClasses),
        "xs" => XS(numClasses),
        _ => throw new ArgumentException($"UNet: unknown preset '{name}' (known: s, xs)"),
    };

    /// <summary>Channels at level <paramref name="level"/>.</summary>
    public int LevelChannels(int level) => BaseChannels * Multipliers[level];

    /// <summary>Feature map side at level <paramref name="level"/>.</summary>
    public int LevelResolution(int level) => ImageSize >> level;

    /// <summary>Throws an ArgumentException naming the first inconsistent field.</summary>
    public void Validate()
    {
        void Fail(string why) => throw new ArgumentException($"UNetConfig: {why}");
        if (ImageSize < 1 || Channels < 1 || BaseChannels < 1) Fail($"image size {ImageSize}, channels {Channels} and base channels {BaseChannels} must be positive");
        if (Multipliers is null || Multipliers.Count == 0 || Multipliers.Any(m => m < 1)) Fail("multipliers must be a non-empty list of positive numbers");
        if (ImageSize % (1 << (Multipliers!.Count - 1)) != 0) Fail($"image size {ImageSize} cannot be halved {Multipliers.Count - 1} times");
        if (ResBlocks < 1) Fail($"res blocks per level must be ≥ 1, got {ResBlocks}");
        if (AttentionResolutions is null) Fail("attention resolutions must be a list (may be empty)");
        if (Groups < 1 || Multipliers.Any(m => BaseChannels * m % Groups != 0)) Fail($"{Groups} groups must divide every level's channels");
        if (TimeFeatures < 2 || TimeFeatures % 2 != 0) Fail($"time features must be a positive even number, got {TimeFeatures}");
        if (EmbedDim < 1) Fail($"embedding width must be positive, got {EmbedDim}");
        if (NumClasses < 0) Fail($"classes must be ≥ 0, got {NumClasses}");
    }

    /// <summary>The config as JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.UNetConfig);

    /// <summary>Parses JSON written by <see cref="ToJson"/> and validates it.</summary>
    public static UNetConfig FromJson(string json)
    {
        UNetConfig? c;
        try
        {
            c = JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.UNetConfig);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"UNetConfig: malformed JSON ({e.Message})", e);
        }
        if (c is null) throw new ArgumentException("UNetConfig: JSON is null");
        c.Validate();
        return c;
    }

    /// <summary>Value equality that compares the lists element by element.</summary>
    public bool Equals(UNetConfig? other) =>
        other is not null && ImageSize == other.ImageSize && Channels == other.Channels && BaseChannels == other.BaseChannels
        && Multipliers.SequenceEqual(other.Multipliers) && ResBlocks == other.ResBlocks
        && AttentionResolutions.SequenceEqual(other.AttentionResolutions) && Groups == other.Groups
        && TimeFeatures == other.TimeFeatures && EmbedDim == other.EmbedDim && NumClasses == other.NumClasses;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(ImageSize, Channels, BaseChannels, Multipliers.Count, ResBlocks, Groups, EmbedDim, NumClasses);
}
