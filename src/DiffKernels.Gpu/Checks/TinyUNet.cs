using DiffKernels.Nn;
using DiffKernels.Ops;
using DiffKernels.Random;
using DiffKernels.Tensors;

namespace DiffKernels.Gpu.Checks;

/// <summary>
/// A UNet-XS-shaped network on 8×8 single-channel images, built only from the core layers: input
/// conv, GroupNorm+SiLU, a timestep embedding MLP injected as a per-channel shift, a stride-2 conv
/// down, self-attention at the low resolution, an average-pooled 1×1 skip, nearest upsampling, a
/// concatenated skip and an output GroupNorm+SiLU+conv. Small enough for the CPU emulator, and it
/// touches every layer kind the real UNet uses.
/// </summary>
internal sealed class TinyUNet : Module
{
    private const int C = 16;
    private readonly Conv2d _in, _conv1, _down, _skip, _up, _out;
    private readonly GroupNorm _norm1, _norm2, _normOut;
    private readonly Linear _t1, _t2;
    private readonly AttentionBlock _attn;

    public TinyUNet(Generator gen, Device device)
    {
        _t1 = RegisterModule("time1", new Linear(C, 2 * C, gen: gen, device: device));
        _t2 = RegisterModule("time2", new Linear(2 * C, C, gen: gen, device: device));
        _in = RegisterModule("conv_in", new Conv2d(1, C, 3, padding: 1, gen: gen, device: device));
        _norm1 = RegisterModule("norm1", new GroupNorm(4, C, device: device));
        _conv1 = RegisterModule("conv1", new Conv2d(C, C, 3, padding: 1, gen: gen, device: device));
        _norm2 = RegisterModule("norm2", new GroupNorm(4, C, device: device));
        _down = RegisterModule("down", new Conv2d(C, 2 * C, 3, stride: 2, padding: 1, gen: gen, device: device));
        _skip = RegisterModule("skip", new Conv2d(C, 2 * C, 1, gen: gen, device: device));
        _attn = RegisterModule("attn", new AttentionBlock(2 * C, heads: 2, groups: 4, gen: gen, device: device));
        _up = RegisterModule("up", new Conv2d(2 * C, C, 3, padding: 1, gen: gen, device: device));
        _normOut = RegisterModule("norm_out", new GroupNorm(4, 2 * C, device: device));
        _out = RegisterModule("conv_out", new Conv2d(2 * C, 1, 3, padding: 1, gen: gen, device: device));
    }

    public Tensor Forward(Tensor x, Tensor t)
    {
        int b = x.Shape[0];
        var emb = _t2.Forward(F.Silu(_t1.Forward(F.TimestepEmbedding(t, C))));
        var h0 = _in.Forward(x);
        var h = _conv1.Forward(_norm1.Forward(h0, silu: true)) + F.Reshape(emb, b, 1, 1, C);
        h = _norm2.Forward(h, silu: true);
        var d = _down.Forward(h) + _skip.Forward(F.AvgPool2x(h0));
        d = _attn.Forward(d);
        var u = F.Concat([_up.Forward(F.Upsample2x(d)), h0], 3);
        return _out.Forward(_normOut.Forward(u, silu: true));
    }
}
