using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Nn;

/// <summary>
/// Residual self-attention over a feature map: x + proj(attention(q(n), k(n), v(n))) with
/// n = GroupNorm(x). NHWC input [B, H, W, C] is attended over its H·W positions as tokens; token
/// input [B, N, C] is accepted as is. Submodules: "norm", "q", "k", "v", "proj" (C → C linears).
/// </summary>
public sealed class AttentionBlock : Module, ILayer
{
    /// <summary>Creates the block; <paramref name="heads"/> and <paramref name="groups"/> must divide <paramref name="channels"/>.</summary>
    public AttentionBlock(int channels, int heads = 1, int groups = 32, float eps = 1e-5f, Generator? gen = null, Device? device = null)
    {
        if (heads < 1 || channels % heads != 0)
            throw new ArgumentException($"AttentionBlock: {heads} heads do not divide {channels} channels");
        Channels = channels;
        Heads = heads;
        Norm = RegisterModule("norm", new GroupNorm(groups, channels, eps, device: device));
        Q = RegisterModule("q", new Linear(channels, channels, gen: gen, device: device));
        K = RegisterModule("k", new Linear(channels, channels, gen: gen, device: device));
        V = RegisterModule("v", new Linear(channels, channels, gen: gen, device: device));
        Proj = RegisterModule("proj", new Linear(channels, channels, gen: gen, device: device));
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Pre-attention normalisation.</summary>
    public GroupNorm Norm { get; }

    /// <summary>Query projection.</summary>
    public Linear Q { get; }

    /// <summary>Key projection.</summary>
    public Linear K { get; }

    /// <summary>Value projection.</summary>
    public Linear V { get; }

    /// <summary>Output projection.</summary>
    public Linear Proj { get; }

    /// <inheritdoc/>
    public Tensor Forward(Tensor x)
    {
        if ((x.Rank != 3 && x.Rank != 4) || x.Shape[-1] != Channels)
            throw new ArgumentException($"AttentionBlock: expected [B, H, W, {Channels}] or [B, N, {Channels}], got {x.Shape}");
        int b = x.Shape[0];
        int tokens = (int)x.Shape.Prod(1, x.Rank - 1);
        var h = Norm.Forward(x).Reshape(b, tokens, Channels);
        var a = F.Attention(Q.Forward(h), K.Forward(h), V.Forward(h), Heads);
        return x + Proj.Forward(a).Reshape(x.Shape.ToArray());
    }
}
