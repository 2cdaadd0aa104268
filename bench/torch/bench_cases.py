#!/usr/bin/python3
"""PyTorch (CPU) versions of `dk bench`'s cases, same shapes and work counts, one JSON line per case.

    /usr/bin/python3.11 bench/torch/bench_cases.py [--cases gemm-1024,conv2d-fwd,...]

Images are NHWC in DiffKernels; here they are NCHW tensors in channels_last memory format, which is
the same memory layout and what oneDNN's fast convolutions want.
"""

import argparse
import math

import torch
import torch.nn.functional as F

import harness
import sampling

N, HW, C, GROUPS = 64, 32, 64, 8
UNET_S_PARAMETERS = 1_742_881


def g(*shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=gen) * 2 - 1


def act(seed):
    return g(N, C, HW, HW, seed=seed).contiguous(memory_format=torch.channels_last)


def gemm(s, ta, tb):
    a = g(s, s, seed=1)
    b = g(s, s, seed=2)
    out = torch.empty(s, s)
    a_op = a.t() if ta else a
    b_op = b.t() if tb else b
    return lambda: torch.mm(a_op, b_op, out=out), 2.0 * s ** 3


def conv(pass_):
    x = act(11)
    w = g(C, C, 3, 3, seed=12).contiguous(memory_format=torch.channels_last)
    dy = act(13)
    flops = 2.0 * N * HW * HW * C * C * 9
    if pass_ == "fwd":
        return lambda: F.conv2d(x, w, padding=1), flops
    mask = [True, False, False] if pass_ == "bwd-data" else [False, True, False]
    return (lambda: torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)), flops


def attention(n, b, backward):
    d = 64
    scale = 1 / math.sqrt(d)
    q, k, v, do = (g(b, n, d, seed=s) for s in (21, 22, 23, 24))

    def fwd():
        return torch.softmax(torch.bmm(q, k.transpose(1, 2)) * scale, dim=-1).bmm(v)

    if not backward:
        return fwd, 4.0 * b * n * n * d
    q.requires_grad_(True)
    k.requires_grad_(True)
    v.requires_grad_(True)
    o = fwd()
    return (lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)), 8.0 * b * n * n * d


def groupnorm(backward):
    x = act(31)
    gamma = 1 + 0.5 * g(C, seed=32)
    beta = g(C, seed=33)
    numel = x.numel()
    if not backward:
        return (lambda: F.silu(F.group_norm(x, GROUPS, gamma, beta))), 8.0 * numel
    x.requires_grad_(True)
    gamma.requires_grad_(True)
    beta.requires_grad_(True)
    y = F.silu(F.group_norm(x, GROUPS, gamma, beta))
    dy = act(34)
    return (lambda: torch.autograd.grad(y, (x, gamma, beta), dy, retain_graph=True)), 12.0 * numel


def chain():
    x = act(31)
    scale = g(1, C, 1, 1, seed=32)
    shift = g(1, C, 1, 1, seed=33)
    return (lambda: F.silu(x * scale + shift)), 8.0 * x.numel()


def silu_bwd():
    x = act(31)
    dy = act(34)
    return (lambda: torch.ops.aten.silu_backward(dy, x)), 12.0 * x.numel()


def adam():
    p = torch.nn.Parameter(g(UNET_S_PARAMETERS, seed=41))
    p.grad = g(UNET_S_PARAMETERS, seed=42)
    opt = torch.optim.Adam([p], lr=1e-4)
    return opt.step, 28.0 * UNET_S_PARAMETERS


CASES = {
    "gemm-1024": ("GFLOP/s", lambda: gemm(1024, False, False)),
    "gemm-2048": ("GFLOP/s", lambda: gemm(2048, False, False)),
    "gemm-1024-nt": ("GFLOP/s", lambda: gemm(1024, False, True)),
    "gemm-1024-tn": ("GFLOP/s", lambda: gemm(1024, True, False)),
    "gemm-2048-nt": ("GFLOP/s", lambda: gemm(2048, False, True)),
    "gemm-2048-tn": ("GFLOP/s", lambda: gemm(2048, True, False)),
    "conv2d-fwd": ("GFLOP/s", lambda: conv("fwd")),
    "conv2d-bwd-data": ("GFLOP/s", lambda: conv("bwd-data")),
    "conv2d-bwd-weight": ("GFLOP/s", lambda: conv("bwd-weight")),
    "attention-fwd-64": ("GFLOP/s", lambda: attention(64, 64, False)),
    "attention-bwd-64": ("GFLOP/s", lambda: attention(64, 64, True)),
    "attention-fwd-256": ("GFLOP/s", lambda: attention(256, 16, False)),
    "attention-bwd-256": ("GFLOP/s", lambda: attention(256, 16, True)),
    "groupnorm-silu-fwd": ("GB/s", lambda: groupnorm(False)),
    "groupnorm-silu-bwd": ("GB/s", lambda: groupnorm(True)),
    "elementwise-chain": ("GB/s", chain),
    "silu-bwd": ("GB/s", silu_bwd),
    "adam": ("GB/s", adam),
}

# Whole-model cases live in their own scripts; this one runs them when asked for.
MODEL_CASES = {"unet-s-train", "unet-s-fwd", "unet-xs-train", "dit-s-train"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    harness.add_timing_args(parser)
    args = parser.parse_args()
    harness.setup_threads(args.threads)
    harness.require_fast_blas()
    for name in [c for c in args.cases.split(",") if c]:
        if name in sampling.CASES:
            print(sampling.run_case(name, args), flush=True)
            continue
        if name in MODEL_CASES:
            import dit_s
            import unet_s
            script = dit_s if name.startswith("dit") else unet_s
            with torch.no_grad() if name == "unet-s-fwd" else torch.enable_grad():
                print(script.run_case(name, args), flush=True)
            continue
        if name not in CASES:
            harness.log(f"no PyTorch version of {name}; skipped")
            continue
        unit, make = CASES[name]
        fn, work = make()
        times = harness.sample(fn, args.min_runs, args.max_runs, args.min_seconds, args.warmup_seconds)
        print(harness.result_line(name, unit, work, times, peak=harness.peak_rss_mb()), flush=True)


if __name__ == "__main__":
    main()
