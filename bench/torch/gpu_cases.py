#!/usr/bin/python3
"""PyTorch versions of `dk bench`'s device-sized cases (bench/DiffKernels.Bench/Cases/DeviceCases.cs, and the
`adam` and `sample-student-xs` cases), same names, shapes and work counts, one JSON line per case on stdout.

    python3 bench/torch/gpu_cases.py [--device cuda|cpu] [--cases gemm-4096,conv2d-b256-32px-fwd,...] [--tiny]

On CUDA every case is timed with CUDA events after a warm-up (median of the runs), with cudnn.benchmark on and TF32
off, so the figures compare FP32 with FP32; the SGEMM and convolution cases are timed a second time with TF32 on, under
the case's name + "-tf32" (cuBLAS's and cuDNN's tensor-core paths: a reference, not a like-for-like ratio). On the
CPU (rehearsals) the TF32 rows are skipped. --tiny runs the tiny shapes of `dk bench --tiny`. Images are NHWC in
DiffKernels; here they are NCHW tensors in channels_last memory format, the same memory layout.
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F

import bench_cases
import harness
import sampling
import unet_s

BATCH = 256
UNET_S_LEVELS = ((32, 32), (16, 64), (8, 64))  # (side, channels) of UNet-S's three levels
CONV_PASSES = ("fwd", "bwd-data", "bwd-weight")


def rand(*shape, seed, device):
    return bench_cases.g(*shape, seed=seed).to(device)


def gemm(s, ta, tb, device):
    a, b = rand(s, s, seed=1, device=device), rand(s, s, seed=2, device=device)
    a_op = a.t() if ta else a
    b_op = b.t() if tb else b
    return lambda: torch.matmul(a_op, b_op), 2.0 * s ** 3


def conv(n, side, c, pass_, device):
    x = rand(n, c, side, side, seed=11, device=device).contiguous(memory_format=torch.channels_last)
    w = rand(c, c, 3, 3, seed=12, device=device).contiguous(memory_format=torch.channels_last)
    dy = rand(n, c, side, side, seed=13, device=device).contiguous(memory_format=torch.channels_last)
    flops = 2.0 * n * side * side * c * c * 9
    if pass_ == "fwd":
        return lambda: F.conv2d(x, w, padding=1), flops
    mask = [True, False, False] if pass_ == "bwd-data" else [False, True, False]
    return (lambda: torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)), flops


def materialised(q, k, v):
    """softmax(q·kᵀ/√d)·v with the score matrix in memory, for PyTorch builds before scaled_dot_product_attention (2.0)."""
    return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1) @ v


SDPA = getattr(F, "scaled_dot_product_attention", materialised)


def attention(b, n, heads, d, backward, device):
    q, k, v, do = (rand(b, heads, n, d, seed=s, device=device) for s in (21, 22, 23, 24))
    flops = (8.0 if backward else 4.0) * b * heads * n * n * d
    if not backward:
        return (lambda: SDPA(q, k, v)), flops
    for t in (q, k, v):
        t.requires_grad_(True)
    o = SDPA(q, k, v)
    return (lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)), flops


def groupnorm(n, spatial_side, c, backward, device):
    x = rand(n, c, spatial_side, spatial_side, seed=31, device=device).contiguous(memory_format=torch.channels_last)
    gamma = 1 + 0.5 * rand(c, seed=32, device=device)
    beta = rand(c, seed=33, device=device)
    if not backward:
        return (lambda: F.silu(F.group_norm(x, 8, gamma, beta))), 8.0 * x.numel()
    for t in (x, gamma, beta):
        t.requires_grad_(True)
    y = F.silu(F.group_norm(x, 8, gamma, beta))
    dy = rand(n, c, spatial_side, spatial_side, seed=34, device=device).contiguous(memory_format=torch.channels_last)
    return (lambda: torch.autograd.grad(y, (x, gamma, beta), dy, retain_graph=True)), 12.0 * x.numel()


def copy(n, device):
    x = rand(n, seed=51, device=device)
    y = torch.empty_like(x)
    return (lambda: y.copy_(x)), 8.0 * n


def edm_inputs(batch, side, device):
    """The fused op's outputs as PyTorch's eager ops compute them (no fused kernel there): x, c_in·x, target, c_noise."""
    x0 = rand(batch, 1, side, side, seed=61, device=device)
    noise = rand(batch, 1, side, side, seed=62, device=device)
    sigma = torch.exp(-1.2 + 1.2 * rand(batch, seed=63, device=device))
    sd = unet_s.SIGMA_DATA

    def run():
        s = sigma[:, None, None, None]
        total = s * s + sd * sd
        c_in = total.rsqrt()
        x = x0 + s * noise
        return x, c_in * x, (x0 - (sd * sd / total) * x) / (s * c_in * sd), sigma.log() / 4

    return run, 20.0 * batch * side * side


def adam(count, device):
    p = torch.nn.Parameter(rand(count, seed=41, device=device))
    p.grad = rand(count, seed=42, device=device)
    opt = torch.optim.Adam([p], lr=1e-4)
    return opt.step, 28.0 * count


def unet_s_train(batch, side, device):
    torch.manual_seed(0)
    net = unet_s.UNetS(res=side).to(device).to(memory_format=torch.channels_last)
    gen = torch.Generator(device=device).manual_seed(1)
    y = (torch.rand(batch, 1, side, side, generator=gen, device=device) * 2 - 1).contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        unet_s.edm_loss(net, y, gen).backward()
        opt.step()

    return step, 0


def student(images, device):
    net, metadata, _ = sampling.load("sample-student-xs")
    net = net.to(device)
    kind, grid = sampling.recorded_sampler(metadata)
    sigma_data = float(metadata.get("sigma_data", 0.5))
    labels = (torch.arange(images, device=device) % net.num_classes).float() if net.num_classes > 0 else None
    config = json.loads(metadata["config"])
    shape = (images, config["channels"], config["image_size"], config["image_size"])

    def draw():
        with torch.no_grad():
            x = sampling.sample(net, torch.randn(*shape, device=device), labels, kind, grid, sigma_data)
        if not torch.isfinite(x).all():
            raise RuntimeError("sample-student-xs: samples are not finite")

    return draw, images


def cases(tiny):
    """name: (unit, factory(device), has a TF32 variant). Tiny shapes as DeviceCases.cs's."""
    b = 1 if tiny else BATCH
    table = {}
    for suffix, ta, tb in (("", False, False), ("-nt", False, True), ("-tn", True, False)):
        table[f"gemm-4096{suffix}"] = ("GFLOP/s", lambda dev, ta=ta, tb=tb: gemm(64 if tiny else 4096, ta, tb, dev), True)
    for side, c in UNET_S_LEVELS:
        for pass_ in CONV_PASSES:
            table[f"conv2d-b256-{side}px-{pass_}"] = ("GFLOP/s", lambda dev, side=side, c=c, p=pass_: conv(b, 4 if tiny else side, 8 if tiny else c, p, dev), True)
    for model, heads in (("dit-s4", 3), ("unet-8x8", 1)):
        for backward in (False, True):
            table[f"attention-{model}-{'bwd' if backward else 'fwd'}"] = (
                "GFLOP/s", lambda dev, h=heads, bw=backward: attention(b, 16 if tiny else 64, h, 64, bw, dev), False)
    for backward in (False, True):
        table[f"groupnorm-silu-b256-{'bwd' if backward else 'fwd'}"] = (
            "GB/s", lambda dev, bw=backward: groupnorm(b, 8 if tiny else 32, 32, bw, dev), False)
    table["copy-256mb"] = ("GB/s", lambda dev: copy(4096 if tiny else 64 << 20, dev), False)
    table["edm-training-inputs-b256"] = ("GB/s", lambda dev: edm_inputs(2 if tiny else BATCH, 8 if tiny else 32, dev), False)
    table["adam"] = ("GB/s", lambda dev: adam(4096 if tiny else bench_cases.UNET_S_PARAMETERS, dev), False)
    table["unet-s-train-b256"] = ("ms/step", lambda dev: unet_s_train(b, 8 if tiny else 32, dev), False)
    table["sample-student-xs"] = ("images/s", lambda dev: student(2 if tiny else sampling.CASES["sample-student-xs"][1], dev), False)
    return table


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def describe(device, tf32):
    if torch.device(device).type != "cuda":
        return harness.describe()
    return (f"torch {torch.__version__}, {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, "
            f"cuDNN {torch.backends.cudnn.version()}, cudnn.benchmark on, TF32 {'on' if tf32 else 'off'}, CUDA events")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="torch device: cuda (default) or cpu (rehearsals)")
    parser.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    parser.add_argument("--tiny", action="store_true", help="the tiny shapes of dk bench --tiny")
    harness.add_timing_args(parser)
    args = parser.parse_args()
    harness.setup_threads(args.threads)
    cuda = torch.device(args.device).type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    table = cases(args.tiny)
    names = [c for c in args.cases.split(",") if c] if args.cases else list(table)
    for name in names:
        if name not in table:
            harness.log(f"no PyTorch version of {name}; skipped")
            continue
        unit, make, has_tf32 = table[name]
        for tf32 in ((False, True) if cuda and has_tf32 else (False,)):
            if cuda:
                set_tf32(tf32)
                torch.cuda.reset_peak_memory_stats(args.device)
            with torch.enable_grad():
                fn, work = make(args.device)
                # One warm-up run at least (cuDNN's autotuning happens there), then --warmup-seconds.
                times = harness.sample_device(fn, args.device, args.min_runs, args.max_runs, args.min_seconds, args.warmup_seconds, warmup_runs=1)
            note = describe(args.device, tf32)
            if name.startswith("attention") and SDPA is materialised:
                note += ", no scaled_dot_product_attention in this torch: materialised softmax"
            if cuda:
                note += f", peak GPU memory {torch.cuda.max_memory_allocated(args.device) / 2 ** 20:.0f} MB"
            print(harness.result_line(name + ("-tf32" if tf32 else ""), unit, work, times, note, peak=harness.peak_rss_mb()), flush=True)
            del fn
            if cuda:
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
