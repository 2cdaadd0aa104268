using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Diffusion.Models;

/// <summary>
/// A DiT block with adaLN-Zero: from the conditioning c, "ada" (SiLU → Linear) gives shift, scale and
/// gate for the attention and for the MLP branch; x += gate·branch(LN(x)·(1 + scale) + shift). The
/// modulation starts at zero, so every gate is zero and the block starts as the identity.
/// Submodules: "qkv" (fused), "proj", "fc1", "fc2", "ada".
/// </summary>
public sealed class DiTBlock : Module
{
    private const float Eps = 1e-6f;

    /// <summary>Creates the block.</summary>
    public DiTBlock(int width, int heads, int mlpRatio, Generator? gen = null, Device? device = null)
    {
        Width = width;
        Heads = heads;
        Qkv = RegisterModule("qkv", new Linear(width, 3 * width, gen: gen, device: device));
        Proj = RegisterModule("proj", new Linear(width, width, gen: gen, device: device));
        Fc1 = RegisterModule("fc1", new Linear(width, mlpRatio * width, gen: gen, device: device));
        Fc2 = RegisterModule("fc2", new Linear(mlpRatio * width, width, gen: gen, device: device));
        Ada = RegisterModule("ada", new Linear(width, 6 * width, gen: gen, device: device));
        Init.Zeros(Ada.Weight);
        Init.Zeros(Ada.Bias!);
    }

    /// <summary>Token width.</summary>
    public int Width { get; }

    /// <summary>Attention heads.</summary>
    public int Heads { get; }

    /// <summary>Fused query/key/value projection.</summary>
    public Linear Qkv { get; }

    /// <summary>Attention output projection.</summary>
    public Linear Proj { get; }

    /// <summary>MLP hidden layer (GELU follows).</summary>
    public Linear Fc1 { get; }

    /// <summary>MLP output layer.</summary>
    public Linear Fc2 { get; }

    /// <summary>Conditioning → six modulation vectors (zero at initialisation).</summary>
    public Linear Ada { get; }

    /// <summary>Applies the block to tokens x [N, T, Width] under conditioning c [N, Width] (not yet activated).</summary>
    public Tensor Forward(Tensor x, Tensor c)
    {
        int n = x.Shape[0];
        var m = F.Chunk(Ada.Forward(F.Silu(c)).Reshape(n, 1, 6 * Width), 6, axis: 2);
        var h = Modulate(x, m[0], m[1]);
        var qkv = F.Chunk(Qkv.Forward(h), 3, axis: 2);
        x = x + m[2] * Proj.Forward(F.Attention(qkv[0], qkv[1], qkv[2], Heads));
        h = Modulate(x, m[3], m[4]);
        return x + m[5] * Fc2.Forward(F.Gelu(Fc1.Forward(h)));
    }

    /// <summary>LayerNorm without affine, then the conditioning's scale and shift ([N, 1, Width] each).</summary>
    internal static Tensor Modulate(Tensor x, Tensor shift, Tensor scale) =>
        F.LayerNorm(x, eps: Eps) * (scale + 1f) + shift;
}
