#!/usr/bin/env bash
# The runs behind docs/performance.md's current tables: the default release build (no flags),
# every comparison in interleaved rounds (ours, then each peer, workload by workload), 1 and 2
# threads. Writes the raw JSON lines next to this script; bench/tables.py prints the tables.
#
#   bench/results/zen3-2core/run.sh [ROUNDS]     (PYTHON: the interpreter with torch, jax, numpy)
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=bench/results/zen3-2core
rounds="${1:-5}"
swift build -c release --product backprop >&2
binary="$(swift build -c release --show-bin-path)/backprop"
export PYTHON="${PYTHON:-python3}"
for t in 1 2; do
    # Every workload with the library's own kernels, against the peers.
    OUT_DIR="$here/off-t$t" BACKPROP_BLAS=off bench/compare.sh --threads "$t" --rounds "$rounds" \
        --workload mlp-step,softmax,jacobian,digits,machine --binary "$binary" > "$here/off-t$t.txt"
    # The training step with the GEMMs in OpenBLAS, against the same peers.
    OUT_DIR="$here/blas-t$t" BACKPROP_BLAS=auto bench/compare.sh --threads "$t" --rounds "$rounds" \
        --workload mlp-step --binary "$binary" > "$here/blas-t$t.txt"
    # GEMM: the library's kernels, then OpenBLAS through the library and called directly.
    : > "$here/gemm-t$t.jsonl"
    for round in $(seq 1 "$rounds"); do
        for blas in off auto; do
            BACKPROP_THREADS="$t" BACKPROP_BLAS="$blas" "$binary" bench --json --workload gemm \
                | sed "s/^{/{\"round\": $round, /" >> "$here/gemm-t$t.jsonl"
        done
    done
done
# `backprop train` (the README's command, default threads and BLAS), wall seconds.
: > "$here/train.txt"
for round in $(seq 1 "$rounds"); do
    /usr/bin/time -f "%e s wall, %M KB peak RSS" "$binary" train 2>> "$here/train.txt" | grep "test accuracy" >> "$here/train.txt"
done
python3 bench/tables.py "$here"
