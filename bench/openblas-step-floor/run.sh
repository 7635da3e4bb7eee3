#!/usr/bin/env bash
# The mlp-step with its products in OpenBLAS against the floor OpenBLAS puts under it: in each
# round, `backprop bench --workload mlp-step` (BACKPROP_BLAS=auto), then step_floor.c (the same
# step written by hand in C on OpenBLAS, and its eight products alone), then PyTorch eager
# (bench/peers/torch_bench.py), on 1 and 2 threads. Prints the medians over the rounds of each
# time and of the per-round ratios to PyTorch.
#
#     swift build -c release --product backprop
#     bench/openblas-step-floor/run.sh [rounds (default 5)]      (PYTHON: the interpreter with torch)
#
# Needs gcc with OpenMP and OpenBLAS (Debian: gcc, libopenblas0).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
python="${PYTHON:-python3}"
BP=.build/release/backprop
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openblas=$(ldconfig -p | awk '/libopenblas\.so\.0/ {print $NF; exit}')
[ -n "$openblas" ] || { echo "run.sh: libopenblas.so.0 not found" >&2; exit 1; }
gcc -O2 -march=native -fopenmp bench/openblas-step-floor/step_floor.c -o "$work/step_floor" "$openblas" -lm
out="$work/results"
for round in $(seq "$rounds"); do
    for t in 1 2; do
        ours=$(BACKPROP_THREADS=$t BACKPROP_BLAS=auto $BP bench --json --workload mlp-step)
        floor=$(OMP_WAIT_POLICY=passive taskset -c "0-$((t - 1))" "$work/step_floor" "$t")
        torch=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" bench/peers/torch_bench.py --threads "$t" --workload mlp-step)
        echo "$t|$ours|$floor|$torch" >> "$out"
    done
    echo "round $round of $rounds done (load average $(cut -d' ' -f1 /proc/loadavg))" >&2
done
python3 - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, *parts = line.strip().split("|")
    ours, floor, torch = (json.loads(p) for p in parts)
    rows.setdefault(int(t), []).append((ours["median_ms"], floor["median_ms"], floor["gemms_ms"], torch["median_ms"]))
print("| threads | ours, OpenBLAS (ms) | C step on OpenBLAS (ms) | its 8 products alone (ms) | PyTorch eager (ms) "
      "| ours ÷ PyTorch | C step ÷ PyTorch | 8 products ÷ PyTorch | ours ÷ C step |")
print("|---|---|---|---|---|---|---|---|---|")
def cell(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"
for t, r in sorted(rows.items()):
    columns = [[x[i] for x in r] for i in range(4)]
    ratios = [[x[i] / x[3] for x in r] for i in range(3)] + [[x[0] / x[1] for x in r]]
    print(f"| {t} | " + " | ".join(f"{statistics.median(c):.2f}" for c in columns) + " | "
          + " | ".join(cell(q) for q in ratios) + " |")
print(f"({len(next(iter(rows.values())))} rounds; cells: medians, ratios: medians of the per-round ratios (range))")
PY
