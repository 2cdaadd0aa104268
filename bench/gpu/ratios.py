#!/usr/bin/env python3
"""The ratio table of a bench/gpu/run.sh folder: our JSON lines (bench-*.out, from `dk bench --json`) beside PyTorch's
(torch-*.out, from bench/torch/gpu_cases.py), matched by case name. Ratios are speed ratios, > 1 when ours is faster:
ours/theirs for throughputs, theirs/ours for ms/step. PyTorch's "-tf32" rows (cuBLAS/cuDNN on tensor cores) are shown
beside the FP32 ones as a reference; our rows measured with DK_GPU_MATMUL=tf32 or 3xtf32 (names ending in "-tf32",
"-3xtf32") are set against both of the case's PyTorch rows. Standard library only.

    python3 bench/gpu/ratios.py OUTDIR
"""

import glob
import json
import os
import sys

PRECISIONS = ("-3xtf32", "-tf32")


def base(name):
    """The case an our-side row measured: rows run with DK_GPU_MATMUL=tf32 or 3xtf32 end in the precision."""
    return next((name[: -len(p)] for p in PRECISIONS if name.endswith(p)), name)


def lines(pattern):
    rows = {}
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    row = json.loads(line)
                    rows[row["case"]] = row
    return rows


def ratio(ours, theirs):
    if not ours or not theirs or ours.get("ours") in (None, 0) or theirs.get("ours") in (None, 0):
        return None
    a, b = ours["ours"], theirs["ours"]
    return b / a if ours["unit"] == "ms/step" else a / b


def fmt(v, digits=3):
    if v is None:
        return "-"
    return f"{v:.{digits}g}" if abs(v) < 10 ** digits else f"{v:.0f}"


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: python3 bench/gpu/ratios.py OUTDIR (a bench/gpu/run.sh folder)", file=sys.stderr)
        return 2
    out = sys.argv[1]
    ours = lines(os.path.join(out, "bench-*.out"))
    torch = lines(os.path.join(out, "torch-*.out"))
    if not ours:
        print(f"{out}: no bench-*.out lines from dk bench", file=sys.stderr)
        return 1
    header = ("case", "unit", "ours", "torch", "ratio", "torch-tf32", "ratio", "launches/run")
    rows = []
    for name, r in ours.items():
        t, t32 = torch.get(base(name)), torch.get(base(name) + "-tf32")
        rows.append((name, r["unit"], fmt(r["ours"]), fmt(t and t["ours"]), fmt(ratio(r, t), 2) + ("×" if t else ""),
                     fmt(t32 and t32["ours"]), fmt(ratio(r, t32), 2) + ("×" if t32 else ""), fmt(r.get("launches_per_run"), 4)))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) if i < 2 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths))))
    backends = sorted({r["backend"] for r in ours.values()})
    implementations = sorted({r["backend"] for r in torch.values()})
    print(f"ours on {', '.join(backends)}; PyTorch: {', '.join(implementations) or 'no lines'}")
    missing = sorted(n for n in ours if base(n) not in torch)
    if missing:
        print(f"no PyTorch line for: {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
