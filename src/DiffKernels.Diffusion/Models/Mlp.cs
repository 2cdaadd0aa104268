using System.Globalization;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The 2D toy denoiser F_θ: hidden layers h ← SiLU(W_k·h + T_k·e(c_noise) [+ C_k·onehot(c)]), then a
/// linear output. The noise features e are injected into every hidden layer through their own
/// projection, so each layer can depend on σ; class labels (when configured) enter the same way,
/// with label −1 giving a zero one-hot (the unconditional branch for guidance).
/// Parameter names: layers.k, time.k, label.k, out.
/// </summary>
public sealed class Mlp : Module, IBottleneckFeatures
{
    private readonly ModuleList<Linear> _layers;
    private readonly ModuleList<Linear> _time;
    private readonly ModuleList<Linear>? _label;
    private readonly Linear _out;

    /// <summary>Builds the network, drawing initial weights from <paramref name="gen"/> (default: Init.DefaultGenerator).</summary>
    public Mlp(MlpConfig config, Generator? gen = null, Device? device = null)
    {
        config.Validate();
        Config = config;
        _layers = RegisterModule("layers", new ModuleList<Linear>());
        _time = RegisterModule("time", new ModuleList<Linear>());
        _label = config.NumClasses > 0 ? RegisterModule("label", new ModuleList<Linear>()) : null;
        for (int k = 0; k < config.Layers; k++)
        {
            _layers.Add(new Linear(k == 0 ? config.Dim : config.Hidden, config.Hidden, gen: gen, device: device));
            _time.Add(new Linear(config.TimeFeatures, config.Hidden, bias: false, gen: gen, device: device));
            _label?.Add(new Linear(config.NumClasses, config.Hidden, bias: false, gen: gen, device: device));
        }
        _out = RegisterModule("out", new Linear(config.Hidden, config.Dim, gen: gen, device: device));
    }

    /// <summary>The configuration this network was built from.</summary>
    public MlpConfig Config { get; }

    /// <inheritdoc/>
    public int NumClasses => Config.NumClasses;

    /// <inheritdoc/>
    public Shape SampleShape => [Config.Dim];

    /// <inheritdoc/>
    public Tensor Forward(Tensor x, Tensor cNoise, Tensor? labels) => _out.Forward(Bottleneck(x, cNoise, labels));

    /// <inheritdoc/>
    public Tensor Bottleneck(Tensor x, Tensor cNoise, Tensor? labels)
    {
        if (x.Rank != 2 || x.Shape[1] != Config.Dim)
            throw new ArgumentException($"Mlp: x must be [N, {Config.Dim}], got {x.Shape}");
        int n = x.Shape[0];
        if (cNoise.Shape != new Shape(n))
            throw new ArgumentException($"Mlp: c_noise must be [{n}] for x {x.Shape}, got {cNoise.Shape}");
        if (labels != null && NumClasses == 0)
            throw new ArgumentException("Mlp: labels given to an unconditional network (num_classes = 0)");
        var features = F.TimestepEmbedding(F.MulScalar(cNoise, Config.TimeScale), Config.TimeFeatures, Config.TimeMaxPeriod);
        var oneHot = labels != null ? OneHot(labels, n, x.Device) : null;
        var h = x;
        for (int k = 0; k < _layers.Count; k++)
        {
            var pre = F.Add(_layers[k].Forward(h), _time[k].Forward(features));
            if (oneHot != null) pre = F.Add(pre, _label![k].Forward(oneHot));
            h = F.Silu(pre);
        }
        return h;
    }

    private Tensor OneHot(Tensor labels, int n, Device device)
    {
        if (labels.Shape != new Shape(n))
            throw new ArgumentException($"Mlp: labels must be [{n}], got {labels.Shape}");
        var values = labels.ToArray();
        var hot = new float[n * NumClasses];
        for (int i = 0; i < n; i++)
        {
            float c = values[i];
            if (c == -1) continue;
            if (c != MathF.Round(c) || c < 0 || c >= NumClasses)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Mlp: label {c} at index {i} is neither −1 nor a class in [0, {NumClasses})"));
            hot[i * NumClasses + (int)c] = 1f;
        }
        return Tensor.FromSpan(hot, [n, NumClasses], device);
    }
}
