using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Training.Sadm;

/// <summary>
/// SADM's structure discriminator network E_φ: samples → unit feature vectors [B, d]. Images [B, H, W, C]: 3×3
/// stride-2 convolutions of the given widths with LeakyReLU(0.2), a global average pool and a linear map to d;
/// points [B, D]: hidden linear layers of the given widths with LeakyReLU(0.2) and a linear map to d. Each sample's
/// features depend on that sample alone. Parameter names: layers.k, out.
/// </summary>
public sealed class StructureEncoder : Module
{
    private const float Slope = 0.2f;

    private readonly ModuleList<Conv2d>? _convs;
    private readonly ModuleList<Linear>? _hidden;
    private readonly Linear _out;

    /// <summary>An encoder of samples of <paramref name="sampleShape"/> ([D] or [H, W, C]), its weights drawn from <paramref name="gen"/>.</summary>
    public StructureEncoder(Shape sampleShape, IReadOnlyList<int> widths, int features, Generator gen, Device? device = null)
    {
        if (widths.Count == 0 || widths.Any(w => w < 1) || features < 1)
            throw new ArgumentException($"StructureEncoder: widths [{string.Join(", ", widths)}] and features {features} must be positive");
        SampleShape = sampleShape;
        int width;
        if (sampleShape.Rank == 3)
        {
            _convs = RegisterModule("layers", new ModuleList<Conv2d>());
            width = sampleShape[2];
            foreach (int w in widths)
            {
                _convs.Add(new Conv2d(width, w, 3, stride: 2, padding: 1, gen: gen, device: device));
                width = w;
            }
        }
        else if (sampleShape.Rank == 1)
        {
            _hidden = RegisterModule("layers", new ModuleList<Linear>());
            width = sampleShape[0];
            foreach (int w in widths)
            {
                _hidden.Add(new Linear(width, w, gen: gen, device: device));
                width = w;
            }
        }
        else throw new ArgumentException($"StructureEncoder: samples must be points [D] or images [H, W, C], not {sampleShape}");
        _out = RegisterModule("out", new Linear(width, features, gen: gen, device: device));
    }

    /// <summary>Shape of one sample it encodes.</summary>
    public Shape SampleShape { get; }

    /// <summary>Unit feature vectors [B, d] of samples <paramref name="x"/> [B, …sample shape].</summary>
    public Tensor Features(Tensor x)
    {
        if (x.Rank != SampleShape.Rank + 1 || !x.Shape.Skip(1).SequenceEqual(SampleShape))
            throw new ArgumentException($"StructureEncoder: x must be [B, {string.Join(", ", SampleShape)}], got {x.Shape}");
        var h = x;
        if (_convs != null)
        {
            foreach (var conv in _convs) h = F.LeakyRelu(conv.Forward(h), Slope);
            h = F.Mean(h, [1, 2]);
        }
        else
        {
            foreach (var layer in _hidden!) h = F.LeakyRelu(layer.Forward(h), Slope);
        }
        return StructuralDistance.Normalise(_out.Forward(h));
    }
}
