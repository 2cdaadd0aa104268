#!/bin/sh
# Peak resident memory (and wall time) of the workloads issue 17 names, for two builds of dk run one after the
# other on each workload, so both sides of a comparison are minutes apart on the same machine.
#
#   bench/memory/peak-rss.sh BEFORE/dk.dll AFTER/dk.dll > bench/results/memory-DATE.txt
#
# Run from the repository root (models/ and the Fashion-MNIST files are read from there); scratch output goes
# to runs/memory. Needs GNU time (/usr/bin/time).
set -eu
before=$1
after=$2
scratch=runs/memory
mkdir -p "$scratch"

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dotnet: $(dotnet --version)"
echo "before: $before"
echo "after:  $after"
echo

# run SIDES LABEL ARGS...: runs the builds named in SIDES ("before after", or one of them, for a case only one
# build has) on the same arguments and prints peak RSS and wall time of each.
run() {
    sides=$1
    label=$2
    shift 2
    for side in $sides; do
        eval "dll=\$$side"
        rm -rf "$scratch/out"
        /usr/bin/time -f "%M %e" -o "$scratch/time" dotnet "$dll" "$@" > "$scratch/stdout" 2>&1 || { cat "$scratch/stdout"; exit 1; }
        read -r kb wall < "$scratch/time"
        echo "$label [$side]: peak RSS $((kb / 1024)) MB, wall $wall s"
        # What the command itself reports about memory and scores, for the record.
        grep -E 'peak resident memory|FD \(classifier|sliced W2|precision|recall' "$scratch/stdout" | sed 's/^/    /' || true
    done
    echo
}

run "before after" "dk bench unet-s-train dit-s-train --quick" bench unet-s-train dit-s-train --quick
run "after" "dk bench unet-xs-train --quick (a case the before build lacks)" bench unet-xs-train --quick
run "before after" "dk eval --n 10000 (toy-8gaussians-teacher)" eval --model models/toy-8gaussians-teacher.safetensors --n 10000
run "before after" "dk eval --n 10000 (fmnist-diff-instruct-xs)" eval --model models/fmnist-diff-instruct-xs.safetensors --n 10000
run "before after" "dk distill boot (UNet-XS teacher, batch 32, 20 steps, checkpoint + 100-image preview every 10)" \
    distill boot --teacher models/fmnist-teacher-xs.safetensors --batch 32 --steps 20 --log-every 10 \
    --checkpoint-every 10 --preview 100 --out "$scratch/out" --force
