#!/usr/bin/python3
"""DiT-S/4 (DESIGN.md: 32×32 input, patch 4 → 64 tokens, width 192, depth 6, 3 heads, adaLN-Zero) in
PyTorch, timed on the CPU, mirroring DiffKernels' DiT module by module.

    /usr/bin/python3.11 bench/torch/dit_s.py [--case dit-s-train]

dit-s-train: one EDM training step at batch 64 (the loss of unet_s.py), backward, Adam. Prints one JSON
line in `dk bench`'s format.
"""

import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import harness
from unet_s import BATCH, edm_loss, timestep_features

PARAMETERS = 4_165_456
WIDTH, DEPTH, HEADS, PATCH, IMAGE = 192, 6, 3, 4, 32


def modulate(x, shift, scale):
    return F.layer_norm(x, (x.shape[-1],), eps=1e-6) * (scale + 1) + shift


class Block(nn.Module):
    def __init__(self, w, heads, mlp_ratio=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(w, 3 * w)
        self.proj = nn.Linear(w, w)
        self.fc1 = nn.Linear(w, mlp_ratio * w)
        self.fc2 = nn.Linear(mlp_ratio * w, w)
        self.ada = nn.Linear(w, 6 * w)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x, c):
        n, t, w = x.shape
        m = self.ada(F.silu(c))[:, None, :].chunk(6, dim=2)
        q, k, v = self.qkv(modulate(x, m[0], m[1])).chunk(3, dim=2)
        d = w // self.heads

        def split(z):
            return z.reshape(n, t, self.heads, d).transpose(1, 2)

        a = torch.softmax(split(q) @ split(k).transpose(2, 3) / math.sqrt(d), dim=-1) @ split(v)
        x = x + m[2] * self.proj(a.transpose(1, 2).reshape(n, t, w))
        return x + m[5] * self.fc2(F.gelu(self.fc1(modulate(x, m[3], m[4]))))


def position_embedding(g, w):
    q = w // 4
    f = torch.pow(10000.0, -torch.arange(q, dtype=torch.float64) / q)
    r = torch.arange(g, dtype=torch.float64)
    rows = r[:, None, None] * f
    cols = r[None, :, None] * f
    rows = rows.expand(g, g, q)
    cols = cols.expand(g, g, q)
    return torch.cat([rows.sin(), rows.cos(), cols.sin(), cols.cos()], dim=2).reshape(1, g * g, w).float()


class DiTS(nn.Module):
    def __init__(self):
        super().__init__()
        self.x_embed = nn.Conv2d(1, WIDTH, PATCH, stride=PATCH)
        self.t_embed = nn.Sequential(nn.Linear(256, WIDTH), nn.SiLU(), nn.Linear(WIDTH, WIDTH))
        self.blocks = nn.ModuleList([Block(WIDTH, HEADS) for _ in range(DEPTH)])
        self.final_ada = nn.Linear(WIDTH, 2 * WIDTH)
        self.final = nn.Linear(WIDTH, PATCH * PATCH)
        for p in (self.final_ada.weight, self.final_ada.bias, self.final.weight, self.final.bias):
            nn.init.zeros_(p)
        self.register_buffer("pos", position_embedding(IMAGE // PATCH, WIDTH))

    def forward(self, x, c_noise):
        n, g = x.shape[0], IMAGE // PATCH
        c = self.t_embed(timestep_features(c_noise, dim=256))
        h = self.x_embed(x).flatten(2).transpose(1, 2) + self.pos
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.final_ada(F.silu(c))[:, None, :].chunk(2, dim=2)
        out = self.final(modulate(h, shift, scale))
        return out.reshape(n, g, g, PATCH, PATCH).permute(0, 1, 3, 2, 4).reshape(n, 1, IMAGE, IMAGE)


def run_case(name, args):
    torch.manual_seed(0)
    net = DiTS()
    count = sum(p.numel() for p in net.parameters())
    assert count == PARAMETERS, f"DiT-S/4 has {count} parameters, DiffKernels' has {PARAMETERS}"
    gen = torch.Generator().manual_seed(1)
    y = torch.rand(BATCH, 1, IMAGE, IMAGE, generator=gen) * 2 - 1
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        edm_loss(net, y, gen).backward()
        opt.step()

    times = harness.sample(step, args.min_runs, args.max_runs, args.min_seconds, args.warmup_seconds, warmup_runs=1)
    return harness.result_line(name, "ms/step", 0, times, f"{harness.describe()}, batch {BATCH}", peak=harness.peak_rss_mb())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default="dit-s-train", choices=["dit-s-train"])
    harness.add_timing_args(parser)
    args = parser.parse_args()
    harness.setup_threads(args.threads)
    print(run_case(args.case, args), flush=True)


if __name__ == "__main__":
    main()
