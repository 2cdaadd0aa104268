#!/usr/bin/env bash
# Publishes the sample framework-dependent, self-contained trimmed and native AOT (baseline x64 and x86-64-v3) for linux-x64 and measures each:
# size on disk, start-up to the first image (as the app reports it, from process start) and ms per image in batches
# of 64 (the first batch, and the fastest of three), median of RUNS runs. Run from the repository root after `dotnet pack DiffKernels.sln -c Release`.
# Native AOT needs clang and zlib1g-dev (Debian packages; see README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${MODEL:-models/fmnist-diff-instruct-xs.safetensors}
runs=${RUNS:-5}
out=runs/deploy
rm -rf "$out" artifacts/sample-packages/diffkernels*
mkdir -p "$out"
publish() { nice -n 10 dotnet publish samples/GenerateGrid -c Release -r linux-x64 -o "$out/$1" "${@:2}" >"$out/$1.log" 2>&1 || { cat "$out/$1.log"; exit 1; }; }
publish framework-dependent --no-self-contained
publish self-contained-trimmed --self-contained -p:PublishTrimmed=true
publish native-aot -p:PublishAot=true
# The same for x86-64-v3 machines (AVX2, FMA) instead of the baseline: Vector<float> is 8 lanes and the AVX2 kernels are
# compiled in; the binary then refuses to start on an older processor.
publish native-aot-v3 -p:PublishAot=true -p:IlcInstructionSet=x86-64-v3
if grep -E ' warning (IL|NETSDK)' "$out"/*.log; then echo "publishing warned (above)"; exit 1; fi

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
echo "| deployment | size on disk | start-up to first image | ms per image, first batch of 64 | ms per image, fastest of 3 batches |"
echo "|---|---|---|---|---|"
for kind in framework-dependent self-contained-trimmed native-aot native-aot-v3; do
  dir=$out/$kind
  # The app and what it ships, without debug symbols (.pdb, .dbg) and the XML docs.
  size=$(find "$dir" -type f ! -name '*.pdb' ! -name '*.dbg' ! -name '*.xml' -printf '%s\n' | awk '{ s += $1 } END { printf "%.1f MB", s / 1e6 }')
  starts=() first=() best=()
  for i in $(seq "$runs"); do
    line=$(nice -n 10 "$dir/GenerateGrid" "$model" "$out/$kind.png" --per-class 1 --time 64)
    starts+=("$(echo "$line" | sed -n 's/.*first image \([0-9]*\) ms.*/\1/p')")
    first+=("$(echo "$line" | sed -n 's/.*: \([0-9.]*\) ms per image in the first.*/\1/p')")
    best+=("$(echo "$line" | sed -n 's/.*, \([0-9.]*\) ms per image in the fastest.*/\1/p')")
  done
  echo "| $kind | $size | $(printf '%s\n' "${starts[@]}" | median) ms | $(printf '%s\n' "${first[@]}" | median) | $(printf '%s\n' "${best[@]}" | median) |"
done
