using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The ADM-style U-Net of the reference models (UNet-S, UNet-XS; see <see cref="UNetConfig"/>), NHWC.
/// The embedding e = time_embed(sinusoidal(c_noise)) [+ label_embed(one-hot(label))] is activated once
/// with SiLU and fed to every residual block as a scale and shift. Every output of "conv_in" and of
/// each "down" entry (residual blocks and downsampling convs) is kept as a skip; each "up" residual
/// block concatenates the most recent one. Submodules in order: time_embed, label_embed (conditional
/// only), conv_in, down, mid (res, attention, res), up, norm_out, conv_out.
/// </summary>
/// <remarks>
/// UNet-S counts 1,742,881 parameters with: a bias on every convolution and linear layer (the label
/// projection excepted); an affine GroupNorm wherever a norm appears (two per residual block, one per
/// attention, one at the output); per block one embedding projection of width 2·C (scale and shift);
/// q, k, v and output projections C → C (a fused qkv would count the same); time MLP 32 → 128 → 128.
/// A conditional model adds classes × 128 for its label projection.
/// </remarks>
public sealed class UNet : Module, IBottleneckFeatures
{
    /// <summary>Builds the network described by <paramref name="config"/>, drawing initial weights from <paramref name="gen"/>.</summary>
    public UNet(UNetConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        int emb = config.EmbedDim, groups = config.Groups, levels = config.Multipliers.Count;
        TimeEmbed = RegisterModule("time_embed", new Sequential(
            new Linear(config.TimeFeatures, emb, gen: gen, device: device),
            Activation.Silu(),
            new Linear(emb, emb, gen: gen, device: device)));
        // No bias: a missing label (−1, a zero one-hot row) then adds exactly nothing.
        if (config.NumClasses > 0)
            LabelEmbed = RegisterModule("label_embed", new Linear(config.NumClasses, emb, bias: false, gen: gen, device: device));
        ConvIn = RegisterModule("conv_in", new Conv2d(config.Channels, config.BaseChannels, 3, padding: 1, gen: gen, device: device));

        Down = RegisterModule("down", new ModuleList<Module>());
        var skips = new Stack<int>();
        skips.Push(config.BaseChannels);
        int ch = config.BaseChannels;
        for (int level = 0; level < levels; level++)
        {
            int outCh = config.LevelChannels(level);
            bool attn = config.AttentionResolutions.Contains(config.LevelResolution(level));
            for (int i = 0; i < config.ResBlocks; i++)
            {
                Down.Add(new UNetResBlock(ch, outCh, emb, groups, attn, gen, device));
                ch = outCh;
                skips.Push(ch);
            }
            if (level < levels - 1)
            {
                Down.Add(new UNetDownsample(ch, gen, device));
                skips.Push(ch);
            }
        }

        Mid = RegisterModule("mid", new ModuleList<Module>(
            new UNetResBlock(ch, ch, emb, groups, attention: false, gen, device),
            new AttentionBlock(ch, heads: 1, groups: groups, gen: gen, device: device),
            new UNetResBlock(ch, ch, emb, groups, attention: false, gen, device)));
        var midAttn = (AttentionBlock)Mid[1];
        Init.Zeros(midAttn.Proj.Weight);
        Init.Zeros(midAttn.Proj.Bias!);

        Up = RegisterModule("up", new ModuleList<Module>());
        for (int level = levels - 1; level >= 0; level--)
        {
            int outCh = config.LevelChannels(level);
            bool attn = config.AttentionResolutions.Contains(config.LevelResolution(level));
            for (int i = 0; i <= config.ResBlocks; i++)
            {
                Up.Add(new UNetResBlock(ch + skips.Pop(), outCh, emb, groups, attn, gen, device));
                ch = outCh;
            }
            if (level > 0) Up.Add(new UNetUpsample(ch, gen, device));
        }

        NormOut = RegisterModule("norm_out", new GroupNorm(groups, ch, device: device));
        ConvOut = RegisterModule("conv_out", new Conv2d(ch, config.Channels, 3, padding: 1, gen: gen, device: device));
        Init.Zeros(ConvOut.Weight);
        Init.Zeros(ConvOut.Bias!);
    }

    /// <summary>The configuration this network was built from.</summary>
    public UNetConfig Config { get; }

    /// <summary>Sinusoidal features → Linear → SiLU → Linear.</summary>
    public Sequential TimeEmbed { get; }

    /// <summary>One-hot label → embedding (no bias), or null when unconditional.</summary>
    public Linear? LabelEmbed { get; }

    /// <summary>Input 3×3 convolution to the base channels.</summary>
    public Conv2d ConvIn { get; }

    /// <summary>Down path: <see cref="UNetResBlock"/>s and <see cref="UNetDownsample"/>s, one skip each.</summary>
    public ModuleList<Module> Down { get; }

    /// <summary>Middle: residual block, attention, residual block.</summary>
    public ModuleList<Module> Mid { get; }

    /// <summary>Up path: <see cref="UNetResBlock"/>s (each consuming one skip) and <see cref="UNetUpsample"/>s.</summary>
    public ModuleList<Module> Up { get; }

    /// <summary>Output normalisation (fused with SiLU).</summary>
    public GroupNorm NormOut { get; }

    /// <summary>Output 3×3 convolution to the image channels (zero at initialisation).</summary>
    public Conv2d ConvOut { get; }

    /// <inheritdoc/>
    public int NumClasses => Config.NumClasses;

    /// <inheritdoc/>
    public Shape SampleShape => new(Config.ImageSize, Config.ImageSize, Config.Channels);

    /// <inheritdoc/>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels)
    {
        var (h, e, skips) = Encode(x, cNoise, labels);
        foreach (var m in Up)
            h = m is UNetResBlock rb ? rb.Forward(F.Concat([h, skips.Pop()], axis: 3), e) : ((UNetUpsample)m).Forward(h);
        return ConvOut.Forward(NormOut.Forward(h, silu: true));
    }

    /// <inheritdoc/>
    public Tensor Bottleneck(Tensor x, Tensor cNoise, Tensor? labels) => Encode(x, cNoise, labels).H;

    /// <summary>The down path and the middle blocks: the bottleneck features, the embedding and the skips the up path takes.</summary>
    private (Tensor H, Tensor E, Stack<Tensor> Skips) Encode(Tensor x, Tensor cNoise, Tensor? labels)
    {
        CheckInputs("UNet", SampleShape, NumClasses, x, cNoise, labels);
        var e = TimeEmbed.Forward(F.TimestepEmbedding(cNoise, Config.TimeFeatures));
        if (LabelEmbed != null && labels != null) e = e + LabelEmbed.Forward(OneHot(this, labels, NumClasses));
        e = F.Silu(e);

        var h = ConvIn.Forward(x);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var m in Down)
        {
            h = m is UNetResBlock rb ? rb.Forward(h, e) : ((UNetDownsample)m).Forward(h);
            skips.Push(h);
        }
        h = ((UNetResBlock)Mid[0]).Forward(h, e);
        h = ((AttentionBlock)Mid[1]).Forward(h);
        h = ((UNetResBlock)Mid[2]).Forward(h, e);
        return (h, e, skips);
    }

    /// <summary>
    /// Rows of the identity for class ids [N] (floats), computed on the device: an id outside
    /// 0..classes−1 — in particular −1, "no class" — gives a zero row. The ids 0..classes−1 are
    /// <paramref name="owner"/>'s constant, so no forward uploads them.
    /// </summary>
    internal static Tensor OneHot(Module owner, Tensor labels, int classes)
    {
        var ids = owner.Constant("class-ids", labels.Device, new Shape(1, classes), () => Enumerable.Range(0, classes).Select(i => (float)i).ToArray());
        return F.Equal(labels.Reshape(labels.Shape[0], 1), ids);
    }

    /// <summary>The INoiseNet argument checks shared by the image networks, naming <paramref name="op"/> in the message.</summary>
    internal static void CheckInputs(string op, Shape sample, int numClasses, Tensor x, Tensor cNoise, Tensor? labels)
    {
        if (x.Rank != 4 || x.Shape[1] != sample[0] || x.Shape[2] != sample[1] || x.Shape[3] != sample[2])
            throw new ArgumentException($"{op}: x must be [N, {sample[0]}, {sample[1]}, {sample[2]}] (NHWC), got {x.Shape}");
        int n = x.Shape[0];
        if (cNoise.Rank != 1 || cNoise.Shape[0] != n)
            throw new ArgumentException($"{op}: cNoise must be [{n}] to match x {x.Shape}, got {cNoise.Shape}");
        if (labels == null) return;
        if (numClasses == 0)
            throw new ArgumentException($"{op}: labels {labels.Shape} given to an unconditional model (pass null)");
        if (labels.Rank != 1 || labels.Shape[0] != n)
            throw new ArgumentException($"{op}: labels must be [{n}] to match x {x.Shape}, got {labels.Shape}");
    }
}
