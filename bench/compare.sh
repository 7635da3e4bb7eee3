#!/usr/bin/env bash
# Runs `backprop bench` and the PyTorch, JAX and NumPy peers (bench/peers/) with the same thread
# count, in one go, and prints each measurement with its time ratio against every peer.
#
#   bench/compare.sh [--threads N] [--workload ID] [--binary PATH] [--label NAME] [--seconds S]
#
# --binary: a built `backprop` (default: build release into .build and use it);
# --label: the build's name in the backend column (e.g. haswell for -target-cpu haswell).
# Threads default to BACKPROP_THREADS, else all cores. The GEMM backend follows BACKPROP_BLAS.
# Raw JSON lines are kept in $OUT_DIR (default: a temporary folder, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${BACKPROP_THREADS:-$(nproc)}"
workload=""
binary=""
label=""
seconds="1"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --workload) workload="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -z "$binary" ]; then
    swift build -c release >&2
    binary="$(swift build -c release --show-bin-path)/backprop"
fi

out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
ours="$out/ours-t$threads.jsonl"
peers="$out/peers-t$threads.jsonl"
: > "$peers"

args=(--threads "$threads" --seconds "$seconds")
[ -n "$workload" ] && args+=(--workload "$workload")

echo "== backprop bench (threads $threads, BACKPROP_BLAS=${BACKPROP_BLAS:-auto})" >&2
ours_args=(bench --json --seconds "$seconds")
[ -n "$workload" ] && ours_args+=(--workload "$workload")
[ -n "$label" ] && ours_args+=(--build-label "$label")
BACKPROP_THREADS="$threads" "$binary" "${ours_args[@]}" > "$ours"

for peer in torch jax numpy; do
    echo "== $peer" >&2
    if [ "$peer" = numpy ]; then
        # NumPy's bundled OpenBLAS must pick its own kernels: this machine's image may set these.
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "bench/peers/${peer}_bench.py" "${args[@]}" >> "$peers" || echo "$peer: failed" >&2
    else
        python3 "bench/peers/${peer}_bench.py" "${args[@]}" >> "$peers" || echo "$peer: failed" >&2
    fi
done

python3 bench/compare.py "$ours" "$peers"
echo "(raw results in $out)" >&2
