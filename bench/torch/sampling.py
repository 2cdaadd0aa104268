"""Sampling throughput of the committed Fashion-MNIST models in PyTorch, as `dk bench`'s sampling cases draw them, and
the check that PyTorch's sampler draws the same images as DiffKernels' from the same noise.

    python3 bench/torch/sampling.py check CHECKPOINT CASE [--tolerance T]
        CASE (safetensors) holds "noise" (NHWC, unit normal), "labels" and "expected": DiffKernels' samples from that
        noise with the checkpoint's recorded sampler. Samples here from the same noise and prints one JSON line with the
        max abs difference; exit 1 above T.

The networks are dk_models.py's, loaded from the same safetensors weights; the sampler is the one the checkpoint
records under "sampler", "sampler_steps", "sampler_sigma_max" and "sampler_sigmas" (absent keys: Heun, 18 levels,
σ_max 80), walked as src/DiffKernels.Diffusion/Sampling/OdeSampler.cs walks it.
"""

import argparse
import json
import os
import sys

import torch

import dk_models
import harness

MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models")

# name: (checkpoint under models/, images per run); DiffKernels.Bench/Cases/SamplingCases.cs holds the same.
CASES = {
    "sample-student-xs": ("fmnist-diff-instruct-xs.safetensors", 256),
    "sample-teacher-heun35": ("fmnist-teacher-xs.safetensors", 256),
}

SIGMA_MIN, RHO = 0.002, 7.0


def karras(n, sigma_min, sigma_max, rho):
    """σ_i = (σmax^(1/ρ) + i/(n−1)·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ for i < n, then 0 (SigmaGrid.Karras)."""
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return [sigma_max if n == 1 else (a + i / (n - 1) * (b - a)) ** rho for i in range(n)] + [0.0]


def recorded_sampler(metadata):
    """(kind, σ grid ending in 0) the checkpoint records, with SamplerOptions' defaults for absent keys."""
    kind = metadata.get("sampler", "heun")
    steps = int(metadata.get("sampler_steps", 18))
    if "sampler_sigmas" in metadata:
        return kind, [float(v) for v in metadata["sampler_sigmas"].split(",")] + [0.0]
    if kind not in ("heun", "euler"):
        raise ValueError(f"sampler '{kind}' has no PyTorch walk here (heun, euler)")
    return kind, karras(steps, SIGMA_MIN, float(metadata.get("sampler_sigma_max", 80)), RHO)


def sample(net, noise, labels, kind, grid, sigma_data):
    """The probability-flow ODE from noise·σ₀ down the grid: Euler steps, with EDM's Heun correction where σ_next > 0."""
    n = noise.shape[0]
    d = lambda x, s: dk_models.denoise(net, x, torch.full((n,), s, device=x.device), labels, sigma_data)
    x = noise * grid[0]
    for a, b in zip(grid[:-1], grid[1:]):
        da = d(x, a)
        if kind == "euler":
            x = da + (x - da) * (b / a)
            continue
        euler = x + (x - da) * (1 / a) * (b - a)
        if b > 0:
            euler = x + ((x - da) * (1 / a) + (euler - d(euler, b)) * (1 / b)) * (0.5 * (b - a))
        x = euler
    return x


def load(name):
    file, images = CASES[name]
    net, metadata = dk_models.load_checkpoint(os.path.join(MODELS, file))
    return net, metadata, images


def run_case(name, args):
    net, metadata, n = load(name)
    kind, grid = recorded_sampler(metadata)
    sigma_data = float(metadata.get("sigma_data", 0.5))
    classes = net.num_classes
    labels = (torch.arange(n) % classes).float() if classes > 0 else None
    config = json.loads(metadata["config"])
    shape = (n, config["channels"], config["image_size"], config["image_size"])

    def draw():
        # Fresh noise every run, and the finiteness check `dk sample` makes, as the DiffKernels side does.
        with torch.no_grad():
            x = sample(net, torch.randn(*shape), labels, kind, grid, sigma_data)
        if not torch.isfinite(x).all():
            raise RuntimeError(f"{name}: samples are not finite")

    times = harness.sample(draw, args.min_runs, args.max_runs, args.min_seconds, args.warmup_seconds, warmup_runs=1)
    evaluations = (2 * (len(grid) - 1) - 1) if kind == "heun" else len(grid) - 1
    note = f"{harness.describe()}, {n} images per run, {kind}, {evaluations} evaluations, NCHW"
    return harness.result_line(name, "images/s", n, times, note, peak=harness.peak_rss_mb())


def check(args):
    net, metadata = dk_models.load_checkpoint(args.checkpoint)
    case, _ = dk_models.load_safetensors(args.case)
    kind, grid = recorded_sampler(metadata)
    with torch.no_grad():
        x = sample(net, case["noise"].permute(0, 3, 1, 2), case.get("labels"), kind, grid, float(metadata.get("sigma_data", 0.5)))
    diff = (x.permute(0, 2, 3, 1) - case["expected"]).abs().max().item()
    print(json.dumps({"checkpoint": args.checkpoint, "sampler": kind, "levels": len(grid) - 1, "max_abs_diff": diff,
                      "max_abs_output": case["expected"].abs().max().item(), "tolerance": args.tolerance}))
    return 0 if diff <= args.tolerance else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("checkpoint")
    c.add_argument("case")
    c.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.exit(check(args))


if __name__ == "__main__":
    main()
