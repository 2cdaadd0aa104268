using DiffKernels.Diffusion.Distillation.Common;
using DiffKernels.Diffusion.Models;
using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Tests.Support;

/// <summary>x = μ_g + a ⊙ z: a generator of N(μ_g, diag a²) with parameters "mu" and "scale".</summary>
internal sealed class AffineGenerator : Module, IGenerator
{
    private readonly Tensor _mu;
    private readonly Tensor _scale;

    public AffineGenerator(double[] mu, double[] scale)
    {
        _mu = RegisterParameter("mu", Tensor.FromSpan(mu.Select(v => (float)v).ToArray(), [mu.Length]));
        _scale = RegisterParameter("scale", Tensor.FromSpan(scale.Select(v => (float)v).ToArray(), [scale.Length]));
    }

    public Tensor Mu => _mu;

    public Tensor Scale => _scale;

    public double[] MuValues() => _mu.ToArray().Select(v => (double)v).ToArray();

    public double[] ScaleValues() => _scale.ToArray().Select(v => (double)v).ToArray();

    public Module Module => this;

    public Shape LatentShape => [_mu.Shape[0]];

    public Shape SampleShape => [_mu.Shape[0]];

    public int NumClasses => 0;

    public Tensor Generate(Tensor z, Tensor? labels) => F.Add(F.Mul(z, _scale), _mu);

    public IReadOnlyDictionary<string, string> SamplingMetadata => new Dictionary<string, string>();
}
