"""Timing and output shared by the PyTorch scripts: the same warm-up, interleaving-free repetition,
median and interquartile spread as `dk bench`, and the same JSON line format (this implementation's
figure under "ours", its name under "backend")."""

import functools
import json
import os
import statistics
import sys
import time

import torch


def setup_threads(n=None):
    """Use every core unless told otherwise, as `dk bench` does."""
    n = n or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def implementation():
    return f"torch-{torch.__version__}"


@functools.lru_cache(maxsize=None)
def blas_library():
    """The BLAS this process loaded for PyTorch's CPU matrix products (Debian's torch takes whichever libblas.so.3
    the system's alternatives name): the real path of the first mapped BLAS file; None where none can be read. Looked up once per process."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    return min((os.path.realpath(p) for p in paths), default=None)


def reference_blas(path):
    """Whether path is the netlib reference BLAS (Debian's libblas3: /usr/lib/<arch>/blas/), many times slower than OpenBLAS."""
    return path is not None and "/blas/" in path and "openblas" not in path


def require_fast_blas():
    """Stops the script when PyTorch's matrix products would run on the reference BLAS: a baseline that slow makes every
    ratio with a linear layer in it (DiT-S/4 16×) a false claim. On Debian: apt-get install libopenblas0-pthread."""
    path = blas_library()
    if reference_blas(path):
        log(f"PyTorch's BLAS is the reference implementation ({path}), many times slower than OpenBLAS, so no ratio against it "
            "would be fair; install libopenblas0-pthread (Debian), which becomes the system's libblas.so.3")
        sys.exit(3)


def describe():
    blas = blas_library()
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"mkldnn {'on' if torch.backends.mkldnn.is_available() else 'off'}, BLAS {os.path.basename(os.path.dirname(blas)) if blas else 'unknown'}")  # e.g. openblas-pthread


def quantile(sorted_values, q):
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (pos - lo) * (sorted_values[hi] - sorted_values[lo])


def sample(fn, min_runs, max_runs, min_seconds, warmup_seconds, warmup_runs=3):
    """Run times in seconds of fn after a warm-up."""
    start = time.perf_counter()
    runs = 0
    while runs < warmup_runs or time.perf_counter() - start < warmup_seconds:
        fn()
        runs += 1
    times = []
    reset_peak_rss()
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def sample_device(fn, device, min_runs, max_runs, min_seconds, warmup_seconds, warmup_runs=3):
    """Run times in seconds of fn on a torch device after a warm-up: on CUDA each run is timed by a pair of CUDA events
    (the device's own clock, launches queued asynchronously), elsewhere as sample() times it."""
    if torch.device(device).type != "cuda":
        return sample(fn, min_runs, max_runs, min_seconds, warmup_seconds, warmup_runs)
    start = time.perf_counter()
    runs = 0
    while runs < warmup_runs or time.perf_counter() - start < warmup_seconds:
        fn()
        runs += 1
    torch.cuda.synchronize(device)
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_seconds):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        times.append(begin.elapsed_time(end) / 1e3)
    return times


def rnd(v):
    """Four significant digits, as the C# side writes them."""
    if v == 0 or v != v:
        return v
    from math import floor, log10
    return round(v, max(0, min(15, 3 - int(floor(log10(abs(v)))))))


def reset_peak_rss():
    """Restart the resident-memory high-water mark (Linux), as `dk bench` does before each case."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def result_line(case, unit, work, times, note=None, peak=None):
    """One JSON line: unit is GFLOP/s, GB/s, images/s (work = FLOPs, bytes or images per run) or ms/step."""
    s = sorted(times)
    med = statistics.median(s)
    value = med * 1e3 if unit == "ms/step" else work / med if unit == "images/s" else work / med / 1e9
    spread = (quantile(s, 0.75) - quantile(s, 0.25)) / med * 100 if med > 0 else 0.0
    return json.dumps({
        "case": case, "backend": implementation(), "unit": unit, "ours": rnd(value),
        "baseline_name": None, "baseline": None, "ratio": None,
        "ours_ms": rnd(med * 1e3), "ours_spread_pct": rnd(spread), "runs": len(s),
        "baseline_ms": None, "baseline_spread_pct": None,
        "note": note if note is not None else describe(),
        "peak_rss_mb": peak, "baseline_peak_rss_mb": None,
    }, ensure_ascii=False)


def add_timing_args(parser):
    parser.add_argument("--min-runs", type=int, default=7)
    parser.add_argument("--max-runs", type=int, default=200)
    parser.add_argument("--min-seconds", type=float, default=1.5)
    parser.add_argument("--warmup-seconds", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)
