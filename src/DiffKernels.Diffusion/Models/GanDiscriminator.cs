using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The discriminator of a <see cref="GanConfig"/>: one logit per NHWC image (real: large). Per stage a 3×3
/// convolution, LeakyReLU(0.2) and 2×2 average pooling; then features f = LeakyReLU(fc(flatten)) and the logit
/// out(f), plus ⟨label_embed(one-hot(c)), f⟩ when conditional (a projection discriminator). No normalisation, so
/// each image's logit depends on that image alone. Submodules: stages.i, fc, out, label_embed (conditional only).
/// </summary>
public sealed class GanDiscriminator : Module
{
    private const float Slope = 0.2f;

    /// <summary>Builds the network, drawing initial weights from <paramref name="gen"/>.</summary>
    public GanDiscriminator(GanConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        Stages = RegisterModule("stages", new ModuleList<Conv2d>());
        int ch = config.Channels;
        foreach (var w in config.DiscriminatorWidths)
        {
            Stages.Add(new Conv2d(ch, w, 3, padding: 1, gen: gen, device: device));
            ch = w;
        }
        int side = config.ImageSize >> config.DiscriminatorWidths.Count;
        Fc = RegisterModule("fc", new Linear(side * side * ch, config.FeatureDim, gen: gen, device: device));
        Out = RegisterModule("out", new Linear(config.FeatureDim, 1, gen: gen, device: device));
        if (config.NumClasses > 0)
            LabelEmbed = RegisterModule("label_embed", new Linear(config.NumClasses, config.FeatureDim, bias: false, gen: gen, device: device));
    }

    /// <summary>The configuration this network was built from.</summary>
    public GanConfig Config { get; }

    /// <summary>The convolutions of the stages, full resolution first.</summary>
    public ModuleList<Conv2d> Stages { get; }

    /// <summary>Flattened last stage → features.</summary>
    public Linear Fc { get; }

    /// <summary>Features → logit.</summary>
    public Linear Out { get; }

    /// <summary>One-hot label → projection vector (null when unconditional).</summary>
    public Linear? LabelEmbed { get; }

    /// <summary>Logits [N] of images [N, H, W, C] with class ids [N] (conditional) or null.</summary>
    public Tensor Forward(Tensor x, Tensor? labels)
    {
        var c = Config;
        if (x.Rank != 4 || x.Shape[1] != c.ImageSize || x.Shape[2] != c.ImageSize || x.Shape[3] != c.Channels)
            throw new ArgumentException($"GanDiscriminator: x must be [N, {c.ImageSize}, {c.ImageSize}, {c.Channels}] (NHWC), got {x.Shape}");
        int n = x.Shape[0];
        GanGenerator.CheckLabels("GanDiscriminator", c.NumClasses, n, labels);
        var h = x;
        foreach (var conv in Stages) h = F.AvgPool2x(F.LeakyRelu(conv.Forward(h), Slope));
        var f = F.LeakyRelu(Fc.Forward(h.Flatten(1)), Slope);
        var logit = Out.Forward(f);
        if (LabelEmbed != null && labels != null)
            logit = logit + F.Sum(F.Mul(LabelEmbed.Forward(UNet.OneHot(this, labels, c.NumClasses)), f), [1], keepDim: true);
        return logit.Reshape(n);
    }
}
