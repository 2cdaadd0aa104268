using System.Text.Json;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The shape of a <see cref="DiT"/>, serialisable to the JSON stored in its checkpoint.
/// </summary>
/// <param name="ImageSize">Side of the square input.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="Patch">Side of a square patch; (ImageSize / Patch)² tokens.</param>
/// <param name="Width">Token width.</param>
/// <param name="Depth">Number of transformer blocks.</param>
/// <param name="Heads">Attention heads (must divide the width).</param>
/// <param name="MlpRatio">Hidden width of each block's MLP as a multiple of the width.</param>
/// <param name="TimeFeatures">Width of the sinusoidal features of c_noise.</param>
/// <param name="NumClasses">Classes for conditioning; 0 for an unconditional model.</param>
public sealed record DiTConfig(
    int ImageSize,
    int Channels,
    int Patch,
    int Width,
    int Depth,
    int Heads,
    int MlpRatio = 4,
    int TimeFeatures = 256,
    int NumClasses = 0)
{

    /// <summary>The kind string stored in checkpoints.</summary>
    public const string Kind = "dit";

    /// <summary>DiT-S/4 for 32×32×1: patch 4 (64 tokens), width 192, depth 6, 3 heads.</summary>
    public static DiTConfig S4(int numClasses = 0) => new(32, 1, 4, 192, 6, 3, NumClasses: numClasses);

    /// <summary>Tokens per image.</summary>
    public int Tokens => (ImageSize / Patch) * (ImageSize / Patch);

    /// <summary>Throws an ArgumentException naming the first inconsistent field.</summary>
    public void Validate()
    {
        void Fail(string why) => throw new ArgumentException($"DiTConfig: {why}");
        if (ImageSize < 1 || Channels < 1 || Patch < 1 || ImageSize % Patch != 0) Fail($"patch {Patch} must divide image size {ImageSize} (both positive, channels {Channels} too)");
        if (Width < 1 || Depth < 0 || Heads < 1 || Width % Heads != 0) Fail($"{Heads} heads must divide width {Width}; depth {Depth} must be ≥ 0");
        if (Width % 4 != 0) Fail($"width {Width} must be a multiple of 4 for the 2-D sine-cosine position embedding");
        if (MlpRatio < 1) Fail($"MLP ratio must be ≥ 1, got {MlpRatio}");
        if (TimeFeatures < 2 || TimeFeatures % 2 != 0) Fail($"time features must be a positive even number, got {TimeFeatures}");
        if (NumClasses < 0) Fail($"classes must be ≥ 0, got {NumClasses}");
    }

    /// <summary>The config as JSON (snake_case keys).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DiffusionJsonContext.Default.DiTConfig);

    /// <summary>Parses JSON written by <see cref="ToJson"/> and validates it.</summary>
    public static DiTConfig FromJson(string json)
    {
        DiTConfig? c;
        try
        {
            c = JsonSerializer.Deserialize(json, DiffusionJsonContext.Default.DiTConfig);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"DiTConfig: malformed JSON ({e.Message})", e);
        }
        if (c is null) throw new ArgumentException("DiTConfig: JSON is null");
        c.Validate();
        return c;
    }
}
