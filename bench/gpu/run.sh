#!/usr/bin/env bash
# The GPU bench in one command: every check and timing a GPU session needs, each step under its own time limit,
# every log and JSON line under OUTDIR, a summary table at the end.
#
#   bench/gpu/run.sh OUTDIR              on a CUDA machine (about 4-5 minutes; capped at 7.5)
#   bench/gpu/run.sh OUTDIR --rehearse   the same sequence on the GPU emulator (cpu-emulator) at the cases' tiny
#                                        shapes, PyTorch on the CPU: exercises the whole flow where there is no GPU
#   --only check-ops,ratios              only the steps named (as the summary names them), e.g. to rerun failed ones
#
# dk is, in order: $DK_DLL; on a GPU run, the bundled app (.device/env.sh and .device/app/dk.dll, a runtime and a
# framework-dependent publish for a machine without .NET); the Release build of the source tree. PyTorch is
# $DK_PYTHON, else the first of python3, /usr/bin/python3 and /opt/*/.venv/bin/python3 that imports torch.
# A failing or timed-out step is recorded and the next one runs; the exit code is 1 if any step failed.
set -u
usage() { echo "usage: bench/gpu/run.sh OUTDIR [--rehearse] [--only STEP,STEP...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1; shift
rehearse=0; only=""
while [ $# -gt 0 ]; do
  case $1 in
    --rehearse) rehearse=1 ;;
    --only) [ $# -ge 2 ] || usage; only=",$2,"; shift ;;
    *) echo "bench/gpu/run.sh: unknown option $1 (expected --rehearse, --only STEPS)" >&2; exit 2 ;;
  esac
  shift
done
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out" || { echo "bench/gpu/run.sh: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
[ -z "$(ls -A "$out")" ] || { echo "bench/gpu/run.sh: $out is not empty; give a new folder" >&2; exit 2; }
cd "$root"

if [ $rehearse = 1 ]; then
  backend=cpu-emulator; budget=2400; scale=8
  shapes=(--tiny); timing=(); torch_device=cpu
  torch_timing=(--tiny --min-runs 1 --max-runs 1 --min-seconds 0 --warmup-seconds 0 --threads 2)
else
  backend=cuda; budget=450; scale=1
  shapes=(); timing=(--seconds 0.5); torch_device=cuda
  torch_timing=(--min-seconds 0.5 --warmup-seconds 0.3)
fi

start=$SECONDS
names=(); codes=(); times=()
# step NAME LIMIT_S CMD...: runs CMD under min(LIMIT·scale, budget left), stdout to NAME.out, stderr to NAME.log.
step() {
  local name=$1 limit=$(( $2 * scale )); shift 2
  [ -z "$only" ] || [[ $only == *",$name,"* ]] || return 0
  local left=$(( budget - (SECONDS - start) ))
  (( limit > left )) && limit=$left
  names+=("$name")
  if (( limit < 5 )); then
    echo "skipped: the run's budget of ${budget} s is spent" > "$out/$name.log"
    codes+=("skip"); times+=(0); return
  fi
  echo "== $name (limit ${limit} s)" >&2
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.out" 2> "$out/$name.log"
  local rc=$?
  (( rc == 124 || rc == 137 )) && echo "timed out after ${limit} s" >> "$out/$name.log"
  [ -s "$out/$name.out" ] || rm -f "$out/$name.out"
  codes+=("$rc"); times+=($(( SECONDS - t0 )))
}

# ---- the app and the interpreter
if [ -n "${DK_DLL:-}" ]; then dk_dll=$DK_DLL
elif [ $rehearse = 0 ] && [ -f .device/env.sh ]; then
  # shellcheck disable=SC1091
  source .device/env.sh && dk_dll=.device/app/dk.dll
else dk_dll=src/DiffKernels.Cli/bin/Release/net10.0/dk.dll
fi
dk=(dotnet "$dk_dll")
python=""
for p in ${DK_PYTHON:-} python3 /usr/bin/python3 /opt/*/.venv/bin/python3; do
  if command -v "$p" > /dev/null 2>&1 && "$p" -c "import torch" > /dev/null 2>&1; then python=$p; break; fi
done
{
  echo "command: bench/gpu/run.sh $out$( [ $rehearse = 1 ] && echo ' --rehearse')"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "host: $(hostname), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "dk: $dk_dll, backend $backend"
  echo "python: ${python:-none with torch}$( [ -n "$python" ] && "$python" -c 'import torch; print(" (torch", torch.__version__ + ", CUDA", torch.version.cuda, ")")')"
} > "$out/run.txt"

# ---- facts, then correctness, then our timings, then PyTorch's, then the ratios
gpu_facts() {
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv && nvidia-smi -q
  elif [ $rehearse = 1 ]; then echo "rehearsal: no nvidia-smi on this machine"
  else echo "nvidia-smi not found" >&2; return 127
  fi
}
export -f gpu_facts; export rehearse
step gpu-facts 20 bash -c gpu_facts
step dk-info 30 "${dk[@]}" info
# the op matrix, its last family ("model") the UNet-XS-like training step against the CPU backend
step check-ops 150 "${dk[@]}" check-ops --backend "$backend"
step bench-gemm 30 "${dk[@]}" bench device-gemm --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
# the same SGEMMs on the tensor cores (results named gemm-4096…-tf32 / -3xtf32: PyTorch's TF32 rows are the peers)
step bench-gemm-tf32 30 env DK_GPU_MATMUL=tf32 "${dk[@]}" bench device-gemm --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-gemm-3xtf32 30 env DK_GPU_MATMUL=3xtf32 "${dk[@]}" bench device-gemm --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-conv2d 45 "${dk[@]}" bench device-conv2d --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-attention 30 "${dk[@]}" bench device-attention --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-memory 30 "${dk[@]}" bench device-memory adam --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-unet-s-train 60 "${dk[@]}" bench unet-s-train-b256 --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step bench-sample-student 40 "${dk[@]}" bench sample-student-xs --backend "$backend" --json "${shapes[@]}" "${timing[@]}"
step launches 60 "${dk[@]}" bench unet-xs-train unet-s-train-b256 --backend "$backend" --launches "${shapes[@]}"
if [ -n "$python" ]; then
  kernels=$("$python" -c "import sys; sys.path.insert(0, 'bench/torch'); import gpu_cases; print(','.join(n for n in gpu_cases.cases(False) if n not in ('unet-s-train-b256', 'sample-student-xs')))")
  step torch-kernels 100 "$python" bench/torch/gpu_cases.py --device "$torch_device" --cases "$kernels" "${torch_timing[@]}"
  step torch-models 60 "$python" bench/torch/gpu_cases.py --device "$torch_device" --cases unet-s-train-b256,sample-student-xs "${torch_timing[@]}"
else
  names+=(torch); codes+=(127); times+=(0); echo "no Python with torch found (set DK_PYTHON)" > "$out/torch.log"
fi
budget=$(( budget + 15 ))   # the ratio table always gets its few seconds
step ratios 10 "${python:-python3}" bench/gpu/ratios.py "$out"

failed=0
{
  printf '%-22s %6s %8s\n' step exit seconds
  for i in "${!names[@]}"; do
    printf '%-22s %6s %8s\n' "${names[$i]}" "${codes[$i]}" "${times[$i]}"
    [ "${codes[$i]}" = 0 ] || failed=1
  done
  echo "total $(( SECONDS - start )) s$( [ $rehearse = 1 ] && echo ', emulator rehearsal at tiny shapes: no figure here is a speed')"
} | tee "$out/summary.txt"
exit $failed
