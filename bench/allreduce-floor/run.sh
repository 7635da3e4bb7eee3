#!/usr/bin/env bash
# The dp-epoch speed-up against the floor this machine's MPI puts under it: in each round,
# one process × 1 thread and 2 ranks × 1 thread of `backprop bench --workload dp-epoch`, then
# step_floor.c with half of that round's 1-process step as its arithmetic. Prints per round
# the measured speed-up and the speed-up a step of perfectly halved arithmetic plus the same
# all-reduce reaches (blocking, and chunked to overlap), then the medians.
#
#     swift build -c release --product backprop
#     bench/allreduce-floor/run.sh [rounds (default 5)]
#
# Needs Open MPI's mpicc and mpirun. As root, set MPIRUN_FLAGS=--allow-run-as-root.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
BP=.build/release/backprop
floor=$(mktemp -d)
trap 'rm -rf "$floor"' EXIT
mpicc -O2 bench/allreduce-floor/step_floor.c -o "$floor/step_floor"
out="$floor/results"
for round in $(seq "$rounds"); do
    one=$(BACKPROP_THREADS=1 $BP bench --workload dp-epoch --json --seconds 2)
    two=$(BACKPROP_THREADS=1 mpirun ${MPIRUN_FLAGS:-} -np 2 --bind-to core $BP bench --workload dp-epoch --distributed --json --seconds 2)
    half=$(python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(d['seconds_per_epoch'] / d['steps_per_epoch'] / 2 * 1e6)" "$one")
    synthetic=$(mpirun ${MPIRUN_FLAGS:-} -np 2 --bind-to core "$floor/step_floor" "$half")
    echo "$one|$two|$synthetic" >> "$out"
    echo "round $round of $rounds done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = []
print(f"{'1×1 step ms':>12}{'2×1 step ms':>12}{'all-reduce ms':>14}{'speed-up':>10}{'floor, blocking':>17}{'floor, chunked':>16}{'compute only':>14}")
for line in open(sys.argv[1]):
    one, two, syn = (json.loads(p) for p in line.split("|"))
    t1 = one["seconds_per_epoch"] / one["steps_per_epoch"] * 1e3
    t2 = two["seconds_per_epoch"] / two["steps_per_epoch"] * 1e3
    row = (t1, t2, two["allreduce_ms_per_step"], t1 / t2, t1 / (syn["blocking_us"] / 1e3), t1 / (syn["chunked_us"] / 1e3),
           t1 / (syn["compute_only_us"] / 1e3))
    rows.append(row)
    print(f"{row[0]:>12.3f}{row[1]:>12.3f}{row[2]:>14.3f}{row[3]:>9.2f}×{row[4]:>16.2f}×{row[5]:>15.2f}×{row[6]:>13.2f}×")
med = [statistics.median(r[i] for r in rows) for i in range(7)]
print(f"{'median':>12}{'':>12}{med[2]:>14.3f}{med[3]:>9.2f}×{med[4]:>16.2f}×{med[5]:>15.2f}×{med[6]:>13.2f}×")
PY
