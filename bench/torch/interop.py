"""Checkpoints between DiffKernels and PyTorch, both ways, on the networks of dk_models.py.

    python3 bench/torch/interop.py check CHECKPOINT CASE [--tolerance T]
        Loads a checkpoint written by DiffKernels into the PyTorch network by name (strictly), denoises CASE's inputs
        (x, sigma and, for a conditional model, labels; images NHWC as DiffKernels holds them) and compares with CASE's
        "expected" (DiffKernels' D on the same inputs). Prints one JSON line with the max abs difference; exit 1 above T.

    python3 bench/torch/interop.py init KIND CONFIG_JSON CHECKPOINT CASE [--seed S]
        Writes a PyTorch-initialised network of KIND ("mlp", "unet", "dit") and CONFIG_JSON as a safetensors checkpoint
        DiffKernels loads (its "model", "config", "conv_layout" and "sigma_data" metadata), and CASE: inputs and
        PyTorch's D on them for DiffKernels to compare.
"""

import argparse
import json
import sys

import torch

import dk_models

SIGMA_DATA = 0.5


def to_torch_layout(x):
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


def to_dk_layout(x):
    return x.permute(0, 2, 3, 1).contiguous() if x.dim() == 4 else x


def check(args):
    net, metadata = dk_models.load_checkpoint(args.checkpoint)
    case, _ = dk_models.load_safetensors(args.case)
    sigma_data = float(metadata.get("sigma_data", SIGMA_DATA))
    with torch.no_grad():
        d = dk_models.denoise(net, to_torch_layout(case["x"]), case["sigma"], case.get("labels"), sigma_data)
    diff = (to_dk_layout(d) - case["expected"]).abs().max().item()
    scale = case["expected"].abs().max().item()
    print(json.dumps({"checkpoint": args.checkpoint, "model": metadata["model"], "max_abs_diff": diff,
                      "max_abs_output": scale, "tolerance": args.tolerance}))
    return 0 if diff <= args.tolerance else 1


def init(args):
    torch.manual_seed(args.seed)
    net = dk_models.from_config(args.kind, args.config).eval()
    config = json.loads(args.config)
    metadata = {"model": args.kind, "config": args.config, "conv_layout": "OIHW", "sigma_data": str(SIGMA_DATA)}
    dk_models.save_safetensors(args.checkpoint, net.state_dict(), metadata)
    n = 4
    if args.kind == "mlp":
        x = torch.randn(n, config.get("dim", 2))
    else:
        x = torch.randn(n, config["channels"], config["image_size"], config["image_size"])
    sigma = torch.tensor([0.01, 0.3, 2.0, 40.0])[:n]
    classes = config.get("num_classes", 0)
    case = {"x": to_dk_layout(x), "sigma": sigma}
    labels = None
    if classes > 0:
        labels = torch.tensor([float(i % classes) for i in range(n - 1)] + [-1.0])
        case["labels"] = labels
    with torch.no_grad():
        case["expected"] = to_dk_layout(dk_models.denoise(net, x, sigma, labels, SIGMA_DATA))
    dk_models.save_safetensors(args.case, case, {})
    print(json.dumps({"checkpoint": args.checkpoint, "model": args.kind, "parameters": sum(p.numel() for p in net.parameters())}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("checkpoint")
    c.add_argument("case")
    c.add_argument("--tolerance", type=float, default=1e-4)
    i = sub.add_parser("init")
    i.add_argument("kind")
    i.add_argument("config")
    i.add_argument("checkpoint")
    i.add_argument("case")
    i.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.exit(check(args) if args.command == "check" else init(args))


main()
