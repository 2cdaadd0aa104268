using DiffKernels.Ops;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// Group normalisation over channels-last input [N, ..., C] (see <see cref="F.GroupNorm(Tensor, int, Tensor?, Tensor?, float, bool, Tensor?, Tensor?)"/>), with a
/// per-channel scale "weight" (ones) and shift "bias" (zeros) when affine.
/// </summary>
public sealed class GroupNorm : Module, ILayer
{
    /// <summary>Creates the layer; <paramref name="groups"/> must divide <paramref name="channels"/>.</summary>
    public GroupNorm(int groups, int channels, float eps = 1e-5f, bool affine = true, Device? device = null)
    {
        if (groups < 1 || channels < 1 || channels % groups != 0)
            throw new ArgumentException($"GroupNorm: {groups} groups do not divide {channels} channels");
        if (!(eps >= 0)) throw new ArgumentException($"GroupNorm: eps must be non-negative, got {eps}");
        Groups = groups;
        Channels = channels;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones([channels], device));
            Bias = RegisterParameter("bias", Tensor.Zeros([channels], device));
        }
    }

    /// <summary>Number of groups.</summary>
    public int Groups { get; }

    /// <summary>Number of channels (last dimension).</summary>
    public int Channels { get; }

    /// <summary>Variance floor.</summary>
    public float Eps { get; }

    /// <summary>Per-channel scale [C], or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift [C], or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x) => Forward(x, silu: false);

    /// <summary>Normalises, then applies SiLU in the same kernel when <paramref name="silu"/> (the common norm → SiLU pair).</summary>
    public Tensor Forward(Tensor x, bool silu)
    {
        if (x.Rank < 2 || x.Shape[-1] != Channels)
            throw new ArgumentException($"GroupNorm: expected [N, ..., {Channels}], got {x.Shape}");
        return F.GroupNorm(x, Groups, Weight, Bias, Eps, silu);
    }

    /// <summary>
    /// Normalises with FiLM from one tensor <paramref name="film"/> [N, 2C] or [N, 1, …, 1, 2C] whose first C channels
    /// are the scale and last C the shift, as one projection of an embedding makes them; same values as splitting it.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor film, bool silu)
    {
        if (x.Rank < 2 || x.Shape[-1] != Channels)
            throw new ArgumentException($"GroupNorm: expected [N, ..., {Channels}], got {x.Shape}");
        return F.GroupNorm(x, Groups, Weight, Bias, film, Eps, silu);
    }
}
