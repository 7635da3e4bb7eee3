#!/usr/bin/env bash
# The dp-epoch benchmark (BENCHMARKS.md): one epoch of the MLP 784-256-10 on data/mnist-5k,
# global batch 128, plain SGD, as 1 process × 1 thread, 2 MPI ranks × 1 thread and
# 1 process × 2 threads, in interleaved rounds. Prints each configuration's median seconds per
# epoch (over rounds of the per-run medians), its fastest epoch, the all-reduce milliseconds
# per step, and the speed-ups over 1 × 1.
#
#     swift build -c release --product backprop
#     bench/dp-epoch.sh [rounds (default 5)] [seconds per run (default 2)]
#
# Needs Open MPI's mpirun. As root, set MPIRUN_FLAGS=--allow-run-as-root.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${2:-2}
BP=.build/release/backprop
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for round in $(seq "$rounds"); do
    BACKPROP_THREADS=1 $BP bench --workload dp-epoch --json --seconds "$seconds" | sed 's/^/1x1 /' >> "$out"
    BACKPROP_THREADS=1 mpirun ${MPIRUN_FLAGS:-} -np 2 --bind-to core $BP bench --workload dp-epoch --distributed --json \
        --seconds "$seconds" | sed 's/^/2x1 /' >> "$out"
    BACKPROP_THREADS=2 $BP bench --workload dp-epoch --json --seconds "$seconds" | sed 's/^/1x2 /' >> "$out"
    echo "round $round of $rounds done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, text = line.split(" ", 1)
    runs.setdefault(label, []).append(json.loads(text))
def median(label, key): return statistics.median(r[key] for r in runs[label])
base = median("1x1", "seconds_per_epoch")
best = min(r["best_seconds_per_epoch"] for r in runs["1x1"])
print(f"{'configuration':<24}{'s/epoch (median)':>18}{'fastest epoch':>15}{'all-reduce ms/step':>20}{'speed-up':>10}{'speed-up (fastest)':>20}")
for label, name in [("1x1", "1 process × 1 thread"), ("2x1", "2 ranks × 1 thread"), ("1x2", "1 process × 2 threads")]:
    s = median(label, "seconds_per_epoch")
    f = min(r["best_seconds_per_epoch"] for r in runs[label])
    a = median(label, "allreduce_ms_per_step")
    print(f"{name:<24}{s:>18.4f}{f:>15.4f}{a:>20.3f}{base / s:>9.2f}×{best / f:>19.2f}×")
PY
