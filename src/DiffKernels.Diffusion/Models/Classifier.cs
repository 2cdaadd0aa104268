using DiffKernels.IO;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// A small CNN classifier over NHWC images, used for metrics: <see cref="Features"/> gives the
/// penultimate layer (SiLU of "fc", <see cref="ClassifierConfig.FeatureDim"/> wide) whose statistics
/// the Fréchet distance compares, <see cref="ILayer.Forward"/> the class logits ("head").
/// Submodules: stages.i.{conv1, norm1, conv2, norm2, ...}, fc, head.
/// </summary>
public sealed class Classifier : Module, ILayer
{
    /// <summary>Builds the network described by <paramref name="config"/>, drawing initial weights from <paramref name="gen"/>.</summary>
    public Classifier(ClassifierConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        Stages = RegisterModule("stages", new ModuleList<ClassifierStage>());
        int ch = config.Channels;
        foreach (var w in config.Widths)
        {
            Stages.Add(new ClassifierStage(ch, w, config.Groups, config.ConvsPerStage, gen, device));
            ch = w;
        }
        int side = config.ImageSize >> config.Widths.Count;
        Fc = RegisterModule("fc", new Linear(side * side * ch, config.FeatureDim, gen: gen, device: device));
        Head = RegisterModule("head", new Linear(config.FeatureDim, config.NumClasses, gen: gen, device: device));
    }

    /// <summary>The configuration this network was built from.</summary>
    public ClassifierConfig Config { get; }

    /// <summary>Convolution stages, each halving the resolution.</summary>
    public ModuleList<ClassifierStage> Stages { get; }

    /// <summary>Flattened last stage → features.</summary>
    public Linear Fc { get; }

    /// <summary>Features → class logits.</summary>
    public Linear Head { get; }

    /// <summary>Penultimate features [N, FeatureDim] of images [N, H, W, C].</summary>
    public Tensor Features(Tensor x)
    {
        var c = Config;
        if (x.Rank != 4 || x.Shape[1] != c.ImageSize || x.Shape[2] != c.ImageSize || x.Shape[3] != c.Channels)
            throw new ArgumentException($"Classifier: x must be [N, {c.ImageSize}, {c.ImageSize}, {c.Channels}] (NHWC), got {x.Shape}");
        var h = x;
        foreach (var s in Stages) h = s.Forward(h);
        return F.Silu(Fc.Forward(h.Flatten(1)));
    }

    /// <summary>Class logits [N, NumClasses].</summary>
    public Tensor Forward(Tensor x) => Head.Forward(Features(x));

    /// <summary>Writes the weights and config to a self-describing checkpoint (see <see cref="ModelFactory"/>).</summary>
    public void Save(string path) => ModelFactory.Save(path, this);

    /// <summary>Reads a classifier checkpoint; errors name the file.</summary>
    public static Classifier Load(string path, Device? device = null)
    {
        CheckpointKind.RequireModel(path, "the metric classifier", ModelRole.Classifier);
        return (Classifier)ModelFactory.Load(path, device).Model;
    }
}

/// <summary>3×3 convolutions ("conv1", "conv2", ...), each followed by GroupNorm + SiLU ("norm1", ...), then 2×2 average pooling.</summary>
public sealed class ClassifierStage : Module, ILayer
{
    private readonly List<(Conv2d Conv, GroupNorm Norm)> _layers = [];

    /// <summary>Creates the stage with <paramref name="convs"/> convolutions.</summary>
    public ClassifierStage(int inChannels, int outChannels, int groups, int convs, Generator? gen = null, Device? device = null)
    {
        for (int i = 1; i <= convs; i++)
        {
            var conv = RegisterModule($"conv{i}", new Conv2d(i == 1 ? inChannels : outChannels, outChannels, 3, padding: 1, gen: gen, device: device));
            var norm = RegisterModule($"norm{i}", new GroupNorm(groups, outChannels, device: device));
            _layers.Add((conv, norm));
        }
    }

    /// <summary>The convolutions with their normalisations, in order.</summary>
    public IReadOnlyList<(Conv2d Conv, GroupNorm Norm)> Layers => _layers;

    /// <inheritdoc/>
    public Tensor Forward(Tensor x)
    {
        foreach (var (conv, norm) in _layers) x = norm.Forward(conv.Forward(x), silu: true);
        return F.AvgPool2x(x);
    }
}
