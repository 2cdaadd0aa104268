using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// Diffusion transformer (DiT) over NHWC images: a stride-P convolution cuts P×P patches into tokens
/// ("x_embed"), a fixed 2-D sine-cosine position embedding is added, <see cref="DiTBlock"/>s with
/// adaLN-Zero follow, and a modulated final LayerNorm + linear ("final_ada", "final") maps each
/// token back to its patch. The conditioning is t_embed(sinusoidal(c_noise)) [+ label_embed(one-hot)].
/// The final modulation and projection start at zero, so a fresh DiT outputs zeros.
/// </summary>
public sealed class DiT : Module, INoiseNet
{
    private readonly float[] _pos;

    /// <summary>Builds the network described by <paramref name="config"/>, drawing initial weights from <paramref name="gen"/>.</summary>
    public DiT(DiTConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        int w = config.Width, p = config.Patch;
        XEmbed = RegisterModule("x_embed", new Conv2d(config.Channels, w, p, stride: p, gen: gen, device: device));
        TEmbed = RegisterModule("t_embed", new Sequential(
            new Linear(config.TimeFeatures, w, gen: gen, device: device),
            Activation.Silu(),
            new Linear(w, w, gen: gen, device: device)));
        // No bias: a missing label (−1, a zero one-hot row) then adds exactly nothing.
        if (config.NumClasses > 0)
            LabelEmbed = RegisterModule("label_embed", new Linear(config.NumClasses, w, bias: false, gen: gen, device: device));
        Blocks = RegisterModule("blocks", new ModuleList<DiTBlock>(
            Enumerable.Range(0, config.Depth).Select(_ => new DiTBlock(w, config.Heads, config.MlpRatio, gen, device))));
        FinalAda = RegisterModule("final_ada", new Linear(w, 2 * w, gen: gen, device: device));
        Final = RegisterModule("final", new Linear(w, p * p * config.Channels, gen: gen, device: device));
        foreach (var t in new[] { FinalAda.Weight, FinalAda.Bias!, Final.Weight, Final.Bias! }) Init.Zeros(t);
        _pos = PositionEmbedding(config.ImageSize / p, w);
    }

    /// <summary>The configuration this network was built from.</summary>
    public DiTConfig Config { get; }

    /// <summary>Patch embedding: P×P convolution with stride P.</summary>
    public Conv2d XEmbed { get; }

    /// <summary>Sinusoidal features → Linear → SiLU → Linear.</summary>
    public Sequential TEmbed { get; }

    /// <summary>One-hot label → conditioning (no bias), or null when unconditional.</summary>
    public Linear? LabelEmbed { get; }

    /// <summary>The transformer blocks.</summary>
    public ModuleList<DiTBlock> Blocks { get; }

    /// <summary>Conditioning → shift and scale of the final LayerNorm (zero at initialisation).</summary>
    public Linear FinalAda { get; }

    /// <summary>Token → patch pixels (zero at initialisation).</summary>
    public Linear Final { get; }

    /// <inheritdoc/>
    public int NumClasses => Config.NumClasses;

    /// <inheritdoc/>
    public Shape SampleShape => new(Config.ImageSize, Config.ImageSize, Config.Channels);

    /// <inheritdoc/>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        UNet.CheckInputs("DiT", SampleShape, NumClasses, x, cNoise, labels);
        int n = x.Shape[0], w = Config.Width, tokens = Config.Tokens;
        var c = TEmbed.Forward(F.TimestepEmbedding(cNoise, Config.TimeFeatures));
        if (LabelEmbed != null && labels != null) c = c + LabelEmbed.Forward(UNet.OneHot(this, labels, NumClasses));

        var pos = Constant("pos", x.Device, new Shape(1, tokens, w), () => _pos);
        var h = XEmbed.Forward(x).Reshape(n, tokens, w) + pos;
        foreach (var block in Blocks) h = block.Forward(h, c);
        var m = F.Chunk(FinalAda.Forward(F.Silu(c)).Reshape(n, 1, 2 * w), 2, axis: 2);
        return Unpatchify(Final.Forward(DiTBlock.Modulate(h, m[0], m[1])), Config.ImageSize, Config.Patch, Config.Channels);
    }

    /// <summary>[N, T, P·P·C] tokens (row-major patches, each row-major P×P×C) → [N, H, W, C].</summary>
    internal static Tensor Unpatchify(Tensor t, int imageSize, int p, int ch)
    {
        int n = t.Shape[0], g = imageSize / p;
        // Rank stays ≤ 5: fold the batch into the patch rows before swapping patch column and pixel row.
        var rows = t.Reshape(n * g, g, p, p * ch).Permute(0, 2, 1, 3);
        return rows.Reshape(n, imageSize, imageSize, ch);
    }

    /// <summary>
    /// Fixed 2-D sine-cosine embedding [g·g, width]: the first half of the channels encodes the patch
    /// row, the second half the column, each as sines then cosines of width/4 geometric frequencies.
    /// </summary>
    internal static float[] PositionEmbedding(int g, int width)
    {
        int quarter = width / 4;
        var e = new float[g * g * width];
        for (int r = 0; r < g; r++)
            for (int col = 0; col < g; col++)
            {
                int o = (r * g + col) * width;
                for (int i = 0; i < quarter; i++)
                {
                    double f = Math.Pow(10000.0, -(double)i / quarter);
                    e[o + i] = (float)Math.Sin(r * f);
                    e[o + quarter + i] = (float)Math.Cos(r * f);
                    e[o + 2 * quarter + i] = (float)Math.Sin(col * f);
                    e[o + 3 * quarter + i] = (float)Math.Cos(col * f);
                }
            }
        return e;
    }
}
