using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// The U-Net's residual block: h = conv1(SiLU(norm1(x))); (scale, shift) = emb(e);
/// h = conv2(SiLU(norm2(h)·(1 + scale) + shift)); out = skip(x) + h, where skip is a 1×1 conv when the
/// channel count changes and the identity otherwise. An optional one-head self-attention ("attn")
/// follows. conv2 starts at zero so the block starts as its skip path (as in ADM and EDM).
/// </summary>
public sealed class UNetResBlock : Module
{
    /// <summary>Creates the block; <paramref name="embedDim"/> is the width of the (already SiLU-activated) embedding it receives.</summary>
    public UNetResBlock(int inChannels, int outChannels, int embedDim, int groups, bool attention, Generator? gen = null, Device? device = null)
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        Norm1 = RegisterModule("norm1", new GroupNorm(groups, inChannels, device: device));
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 3, padding: 1, gen: gen, device: device));
        Emb = RegisterModule("emb", new Linear(embedDim, 2 * outChannels, gen: gen, device: device));
        Norm2 = RegisterModule("norm2", new GroupNorm(groups, outChannels, device: device));
        Conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1, gen: gen, device: device));
        Init.Zeros(Conv2.Weight);
        Init.Zeros(Conv2.Bias!);
        if (inChannels != outChannels)
            Skip = RegisterModule("skip", new Conv2d(inChannels, outChannels, 1, gen: gen, device: device));
        if (attention)
        {
            Attn = RegisterModule("attn", new AttentionBlock(outChannels, heads: 1, groups: groups, gen: gen, device: device));
            Init.Zeros(Attn.Proj.Weight);
            Init.Zeros(Attn.Proj.Bias!);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>First normalisation (fused with SiLU).</summary>
    public GroupNorm Norm1 { get; }

    /// <summary>First 3×3 convolution.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>Embedding → (scale, shift), 2·OutChannels wide.</summary>
    public Linear Emb { get; }

    /// <summary>Second normalisation, fused with the embedding's scale and shift and the SiLU after them.</summary>
    public GroupNorm Norm2 { get; }

    /// <summary>Second 3×3 convolution (zero at initialisation).</summary>
    public Conv2d Conv2 { get; }

    /// <summary>1×1 convolution on the residual path when the channel count changes, else null.</summary>
    public Conv2d? Skip { get; }

    /// <summary>Self-attention after the block, or null.</summary>
    public AttentionBlock? Attn { get; }

    /// <summary>Applies the block to x [N, H, W, InChannels] with the activated embedding <paramref name="emb"/> [N, embedDim].</summary>
    public Tensor Forward(Tensor x, Tensor emb)
    {
        int n = x.Shape[0];
        var h = Conv1.Forward(Norm1.Forward(x, silu: true));
        // The projection's first OutChannels channels are the scale, the rest the shift: read in place.
        h = Norm2.Forward(h, Emb.Forward(emb).Reshape(n, 1, 1, 2 * OutChannels), silu: true);
        h = Conv2.Forward(h);
        var y = (Skip?.Forward(x) ?? x) + h;
        return Attn?.Forward(y) ?? y;
    }
}
