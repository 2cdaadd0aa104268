using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Distillation.Dmd2;

/// <summary>
/// DMD2's GAN head: a real-vs-fake logit per sample from the fake denoiser's lowest-resolution features
/// (<see cref="IBottleneckFeatures.Bottleneck"/>) at a noised input. On image features [h, w, C] it is the reference's
/// conv(4, stride 2) → GroupNorm → SiLU → conv(4, stride 4) → GroupNorm → SiLU → conv(1), the second kernel shrunk to
/// the map when it is smaller than 4, the logits averaged over what is left of the map, and at most 32 groups of two or
/// more channels; on an Mlp's hidden
/// features [H] it is Linear(H, H) → SiLU → Linear(H, 1).
/// </summary>
public sealed class Dmd2GanHead : Module
{
    private readonly Conv2d? _down;
    private readonly GroupNorm? _norm1;
    private readonly Conv2d? _pool;
    private readonly GroupNorm? _norm2;
    private readonly Conv2d? _logit;
    private readonly Linear? _hidden;
    private readonly Linear? _out;

    /// <summary>A head for per-sample features of shape <paramref name="features"/>, initialised from <paramref name="gen"/>.</summary>
    public Dmd2GanHead(Shape features, Generator gen, Device? device = null)
    {
        FeatureShape = features;
        if (features.Rank == 1)
        {
            int h = features[0];
            _hidden = RegisterModule("hidden", new Linear(h, h, gen: gen, device: device));
            _out = RegisterModule("out", new Linear(h, 1, gen: gen, device: device));
            return;
        }
        if (features.Rank != 3 || features[0] < 2 || features[1] < 2)
            throw new ArgumentException($"Dmd2GanHead: features must be [H] or [h ≥ 2, w ≥ 2, C], not {features}");
        int c = features[2], groups = Groups(c);
        int side = Math.Min(features[0], features[1]) / 2, k = Math.Min(4, side);
        _down = RegisterModule("down", new Conv2d(c, c, 4, stride: 2, padding: 1, gen: gen, device: device));
        _norm1 = RegisterModule("norm1", new GroupNorm(groups, c, device: device));
        _pool = RegisterModule("pool", new Conv2d(c, c, k, stride: k, gen: gen, device: device));
        _norm2 = RegisterModule("norm2", new GroupNorm(groups, c, device: device));
        _logit = RegisterModule("logit", new Conv2d(c, 1, 1, gen: gen, device: device));
    }

    /// <summary>The per-sample feature shape the head reads.</summary>
    public Shape FeatureShape { get; }

    /// <summary>Logits [N] for features [N, …<see cref="FeatureShape"/>].</summary>
    public Tensor Forward(Tensor features)
    {
        int n = features.Shape[0];
        if (_hidden != null) return F.Reshape(_out!.Forward(F.Silu(_hidden.Forward(features))), n);
        var h = _norm1!.Forward(_down!.Forward(features), silu: true);
        h = _norm2!.Forward(_pool!.Forward(h), silu: true);
        var logits = _logit!.Forward(h);
        return F.Mean(F.Reshape(logits, n, (int)(logits.Numel / n)), [1]);
    }

    /// <summary>
    /// The head's logits for x = <paramref name="x"/> + σ·n read through <paramref name="net"/>'s bottleneck, recorded
    /// through x, the network and the head (what a gradient needs to reach the generator or the networks).
    /// </summary>
    public Tensor Logits(IBottleneckFeatures net, double sigmaData, Tensor x, Tensor sigma, Tensor noise, Tensor? labels)
    {
        var shape = Enumerable.Repeat(1, x.Rank).ToArray();
        shape[0] = x.Shape[0];
        var s = F.Reshape(sigma, shape);
        var noisy = F.Add(x, F.Mul(noise, s));
        var cIn = F.Rsqrt(F.AddScalar(F.Square(s), (float)(sigmaData * sigmaData)));
        var cNoise = F.MulScalar(F.Log(sigma), 0.25f);
        return Forward(net.Bottleneck(F.Mul(noisy, cIn), cNoise, labels));
    }

    /// <summary>The per-sample feature shape of <paramref name="net"/>'s bottleneck (one evaluation of a zero input).</summary>
    public static Shape FeaturesOf(IBottleneckFeatures net, Device device)
    {
        using var scope = Tensor.Scope();
        using var noGrad = Tensor.NoGrad();
        var x = Tensor.Zeros([1, .. net.SampleShape], device);
        var labels = net.NumClasses > 0 ? Tensor.Zeros([1], device) : null;
        var f = net.Bottleneck(x, Tensor.Zeros([1], device), labels);
        return new Shape(f.Shape.ToArray()[1..]);
    }

    // The largest group count up to 32 that divides the channels and leaves two or more in each group: the second
    // norm sees a 1×1 map, where a one-channel group would normalise every value to 0.
    private static int Groups(int channels) => Enumerable.Range(1, Math.Max(1, Math.Min(32, channels / 2))).Last(g => channels % g == 0);
}
