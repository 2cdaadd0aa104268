using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Sampling;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The DCGAN-style generator of a <see cref="GanConfig"/>: x = G(z, c) in one network evaluation, NHWC images in
/// (−1, 1). It is an <see cref="IGenerator"/>, so score-based distillers refine it directly, and its checkpoint
/// metadata names the one-evaluation <see cref="SamplerKind.Generator"/> sampler, so `dk sample` and `dk eval`
/// draw from it without noise levels. Submodules: fc, label_embed (conditional only), ups.i.{conv, norm}, out.
/// </summary>
public sealed class GanGenerator : Module, IGenerator
{
    private readonly int _base;

    /// <summary>Builds the network, drawing initial weights from <paramref name="gen"/>.</summary>
    public GanGenerator(GanConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        _base = config.ImageSize >> config.GeneratorWidths.Count;
        int first = config.GeneratorWidths[0];
        Fc = RegisterModule("fc", new Linear(config.LatentDim, _base * _base * first, gen: gen, device: device));
        // No bias: the one-hot projection is the label half of a linear layer over [z, one-hot].
        if (config.NumClasses > 0)
            LabelEmbed = RegisterModule("label_embed", new Linear(config.NumClasses, _base * _base * first, bias: false, gen: gen, device: device));
        FcNorm = RegisterModule("fc_norm", new GroupNorm(config.Groups, first, device: device));
        Ups = RegisterModule("ups", new ModuleList<GanUpBlock>());
        for (int i = 1; i < config.GeneratorWidths.Count; i++)
            Ups.Add(new GanUpBlock(config.GeneratorWidths[i - 1], config.GeneratorWidths[i], config.Groups, gen, device));
        Out = RegisterModule("out", new Conv2d(config.GeneratorWidths[^1], config.Channels, 3, padding: 1, gen: gen, device: device));
    }

    /// <summary>The configuration this network was built from.</summary>
    public GanConfig Config { get; }

    /// <summary>Latent → the smallest feature map.</summary>
    public Linear Fc { get; }

    /// <summary>One-hot label → the smallest feature map (null when unconditional).</summary>
    public Linear? LabelEmbed { get; }

    /// <summary>Normalisation of the smallest feature map.</summary>
    public GroupNorm FcNorm { get; }

    /// <summary>Upsampling blocks, one per resolution doubling before the last.</summary>
    public ModuleList<GanUpBlock> Ups { get; }

    /// <summary>The convolution to image channels after the last doubling.</summary>
    public Conv2d Out { get; }

    /// <inheritdoc/>
    public Module Module => this;

    /// <inheritdoc/>
    public Shape LatentShape => [Config.LatentDim];

    /// <inheritdoc/>
    public Shape SampleShape => [Config.ImageSize, Config.ImageSize, Config.Channels];

    /// <inheritdoc/>
    public int NumClasses => Config.NumClasses;

    /// <inheritdoc/>
    public Tensor Generate(Tensor z, Tensor? labels)
    {
        if (z.Rank != 2 || z.Shape[1] != Config.LatentDim)
            throw new ArgumentException($"GanGenerator: z must be [N, {Config.LatentDim}], got {z.Shape}");
        int n = z.Shape[0];
        CheckLabels("GanGenerator", NumClasses, n, labels);
        var h = Fc.Forward(z);
        if (LabelEmbed != null && labels != null) h = h + LabelEmbed.Forward(UNet.OneHot(this, labels, NumClasses));
        h = FcNorm.Forward(h.Reshape(n, _base, _base, Config.GeneratorWidths[0]), silu: true);
        foreach (var up in Ups) h = up.Forward(h);
        return F.Tanh(Out.Forward(F.Upsample2x(h)));
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> SamplingMetadata => new Dictionary<string, string>
    {
        [SamplerOptions.KindKey] = SamplerOptions.GeneratorName,
        [SamplerOptions.StepsKey] = "1",
    };

    /// <summary>Checks that <paramref name="labels"/> are [N] class ids exactly when the network is conditional, naming <paramref name="op"/>.</summary>
    internal static void CheckLabels(string op, int numClasses, int n, Tensor? labels)
    {
        if (labels == null)
        {
            if (numClasses > 0) throw new ArgumentException($"{op}: a conditional network ({numClasses} classes) needs labels [{n}]");
            return;
        }
        if (numClasses == 0) throw new ArgumentException($"{op}: labels {labels.Shape} given to an unconditional network (pass null)");
        if (labels.Rank != 1 || labels.Shape[0] != n) throw new ArgumentException($"{op}: labels must be [{n}], got {labels.Shape}");
    }
}

/// <summary>2× nearest upsample, 3×3 convolution ("conv"), GroupNorm + SiLU ("norm").</summary>
public sealed class GanUpBlock : Module, ILayer
{
    /// <summary>Creates the block from <paramref name="inChannels"/> to <paramref name="outChannels"/>.</summary>
    public GanUpBlock(int inChannels, int outChannels, int groups, Generator? gen = null, Device? device = null)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, 3, padding: 1, gen: gen, device: device));
        Norm = RegisterModule("norm", new GroupNorm(groups, outChannels, device: device));
    }

    /// <summary>The convolution after the upsample.</summary>
    public Conv2d Conv { get; }

    /// <summary>The normalisation (with SiLU).</summary>
    public GroupNorm Norm { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => Norm.Forward(Conv.Forward(F.Upsample2x(x)), silu: true);
}
