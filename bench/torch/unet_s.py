#!/usr/bin/python3
"""UNet-S (DESIGN.md's reference shape, 1,742,881 parameters) in PyTorch, timed on the CPU.

    /usr/bin/python3.11 bench/torch/unet_s.py [--case unet-s-train|unet-s-fwd|unet-xs-train] [--channels-last]

unet-s-train: one EDM training step at batch 64 (sigma ~ lognormal(-1.2, 1.2), sigma_data 0.5,
preconditioned loss, backward, Adam). unet-s-fwd: the network's forward at batch 64 without gradients.
unet-xs-train: the same step for UNet-XS (dk_models.UNet at UNetConfig.XS, unconditional) at batch 32, the
network and batch of the Fashion-MNIST distillations.
Prints one JSON line in `dk bench`'s format, with the peak resident memory while timing.
"""

import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import harness

BATCH = 64
PARAMETERS = 1_742_881
XS_BATCH = 32
XS_PARAMETERS = 354_337  # UNet-XS without a label projection (the 10-class teacher's 355,617 less 10 × 128)
XS_CONFIG = dict(image_size=32, channels=1, base_channels=16, multipliers=[1, 2, 2], res_blocks=1, attention_resolutions=[8])
SIGMA_DATA = 0.5
P_MEAN, P_STD = -1.2, 1.2


def norm(c):
    return nn.GroupNorm(8, c)


def timestep_features(c_noise, dim=32, max_period=10000.0):
    """[cos(t·f_i), sin(t·f_i)] with f_i = max_period^(-i/half), as F.TimestepEmbedding in DiffKernels."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=c_noise.device) / half)
    phase = c_noise[:, None].double() * freqs[None].double()
    return torch.cat([torch.cos(phase), torch.sin(phase)], dim=1).float()


class ResBlock(nn.Module):
    """GN-SiLU-conv, GN, then timestep scale and shift, SiLU-conv; 1×1 conv skip when channels change."""

    def __init__(self, cin, cout, temb=128):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(temb, 2 * cout)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return (x if self.skip is None else self.skip(x)) + h


class Attention(nn.Module):
    """Residual one-head self-attention over the H·W positions."""

    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q = nn.Linear(c, c)
        self.k = nn.Linear(c, c)
        self.v = nn.Linear(c, c)
        self.proj = nn.Linear(c, c)

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        q, k, v = self.q(t), self.k(t), self.v(t)
        a = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1) @ v
        return x + self.proj(a).reshape(b, h, w, c).permute(0, 3, 1, 2)


class UNetS(nn.Module):
    def __init__(self, base=32, mults=(1, 2, 2), blocks=2, attn_res=(8,), res=32):
        super().__init__()
        self.temb = nn.Sequential(nn.Linear(32, 128), nn.SiLU(), nn.Linear(128, 128))
        self.conv_in = nn.Conv2d(1, base, 3, padding=1)
        self.down = nn.ModuleList()
        chans = [base]
        ch, r = base, res
        for level, m in enumerate(mults):
            for _ in range(blocks):
                self.down.append(nn.ModuleList([ResBlock(ch, base * m)] + ([Attention(base * m)] if r in attn_res else [])))
                ch = base * m
                chans.append(ch)
            if level != len(mults) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                chans.append(ch)
                r //= 2
        self.mid = nn.ModuleList([ResBlock(ch, ch), Attention(ch), ResBlock(ch, ch)])
        self.up = nn.ModuleList()
        for level, m in reversed(list(enumerate(mults))):
            for i in range(blocks + 1):
                self.up.append(nn.ModuleList([ResBlock(ch + chans.pop(), base * m)] + ([Attention(base * m)] if r in attn_res else [])))
                ch = base * m
            if level != 0:
                self.up.append(nn.Conv2d(ch, ch, 3, padding=1))
                r *= 2
        self.norm_out = norm(ch)
        self.conv_out = nn.Conv2d(ch, 1, 3, padding=1)

    def forward(self, x, c_noise):
        emb = self.temb(timestep_features(c_noise))
        h = self.conv_in(x)
        skips = [h]
        for layer in self.down:
            if isinstance(layer, nn.Conv2d):
                h = layer(h)
            else:
                h = layer[0](h, emb)
                for a in layer[1:]:
                    h = a(h)
            skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
        for layer in self.up:
            if isinstance(layer, nn.Conv2d):
                h = layer(F.interpolate(h, scale_factor=2, mode="nearest"))
            else:
                h = layer[0](torch.cat([h, skips.pop()], dim=1), emb)
                for a in layer[1:]:
                    h = a(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def edm_loss(net, y, gen):
    """EDM loss as DiffKernels computes it: with x = y + σn, the squared error of F(c_in·x; c_noise)
    against (y − c_skip·x)/c_out, summed per sample and averaged over the batch (= λ(σ)·‖D − y‖²)."""
    sigma = torch.exp(P_MEAN + P_STD * torch.randn(y.shape[0], generator=gen, device=y.device))
    noise = torch.randn(y.shape, generator=gen, device=y.device)
    s = sigma[:, None, None, None]
    total = s ** 2 + SIGMA_DATA ** 2
    c_in = total.rsqrt()
    c_skip = SIGMA_DATA ** 2 / total
    c_out = s * c_in * SIGMA_DATA
    with torch.no_grad():
        x = y + s * noise
        target = (y - x * c_skip) / c_out
    f = net(x * c_in, sigma.log() / 4)
    return ((f - target) ** 2).sum() / y.shape[0]


def build(channels_last, xs=False):
    torch.manual_seed(0)
    if xs:
        from dk_models import UNet
        net, batch, expected, name = UNet(**XS_CONFIG), XS_BATCH, XS_PARAMETERS, "UNet-XS"
    else:
        net, batch, expected, name = UNetS(), BATCH, PARAMETERS, "UNet-S"
    count = sum(p.numel() for p in net.parameters())
    assert count == expected, f"{name} has {count} parameters, DiffKernels' has {expected}"
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    gen = torch.Generator().manual_seed(1)
    y = torch.rand(batch, 1, 32, 32, generator=gen) * 2 - 1
    return net, y, gen


def run_case(name, args):
    channels_last = getattr(args, "channels_last", False)
    net, y, gen = build(channels_last, xs=name == "unet-xs-train")
    if channels_last:
        y = y.contiguous(memory_format=torch.channels_last)
    if name in ("unet-s-train", "unet-xs-train"):
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            edm_loss(net, y, gen).backward()
            opt.step()
    else:
        c_noise = torch.full((BATCH,), 0.25)

        def step():
            with torch.no_grad():
                net(y, c_noise)
    times = harness.sample(step, args.min_runs, args.max_runs, args.min_seconds, args.warmup_seconds, warmup_runs=1)
    note = f"{harness.describe()}, batch {y.shape[0]}, {'channels_last' if channels_last else 'NCHW'}"
    return harness.result_line(name, "ms/step", 0, times, note, peak=harness.peak_rss_mb())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default="unet-s-train", choices=["unet-s-train", "unet-s-fwd", "unet-xs-train"])
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format (NHWC, as DiffKernels)")
    harness.add_timing_args(parser)
    args = parser.parse_args()
    harness.setup_threads(args.threads)
    print(run_case(args.case, args), flush=True)


if __name__ == "__main__":
    main()
