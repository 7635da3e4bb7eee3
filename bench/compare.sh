#!/usr/bin/env bash
# Runs `backprop bench` and the PyTorch, JAX and NumPy peers (bench/peers/) with the same thread
# count, in one go, and prints each measurement with its time ratio against every peer.
#
#   bench/compare.sh [--threads N] [--workload ID[,ID...]] [--rounds R] [--binary PATH] [--label NAME] [--seconds S]
#
# Workload by workload, ours then each peer, so that the two sides of a ratio run seconds apart
# rather than minutes (this machine has slow and fast phases lasting minutes). With --rounds R
# the whole sequence repeats R times; every JSON line carries its round, and the printed ratio
# is the median of the per-round ratios, with their range.
#
# --binary: a built `backprop` (default: build release into .build and use it);
# --label: the build's name in the backend column (e.g. haswell for -target-cpu haswell).
# Threads default to BACKPROP_THREADS, else all cores. The GEMM backend follows BACKPROP_BLAS.
# The peers run under $PYTHON (default python3), e.g. PYTHON=/path/to/venv/bin/python.
# Raw JSON lines are kept in $OUT_DIR (default: a temporary folder, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${BACKPROP_THREADS:-$(nproc)}"
workload=""
rounds=1
binary=""
label=""
seconds="1"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --workload) workload="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds needs a positive integer, got $rounds" >&2; exit 2; }

if [ -z "$binary" ]; then
    swift build -c release >&2
    binary="$(swift build -c release --show-bin-path)/backprop"
fi

out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
ours="$out/ours-t$threads.jsonl"
peers="$out/peers-t$threads.jsonl"
: > "$ours"
: > "$peers"
workloads="${workload:-gemm,mlp-step,softmax,jacobian,digits,cnn-step}"

# The peers get the allocator settings `backprop` gives itself (AllocatorTuning.retainFreedMemory:
# freed blocks up to 256 MiB kept for reuse, blocks up to 32 MiB from the heap). Without them a
# fresh PyTorch process re-faults its 16 MB softmax buffers on every step (24 instead of 17 ms).
peer_env=(MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=33554432)

# Tags each JSON line with its round (other lines, such as a peer's "skipped" message, pass).
tag() { sed "s/^{/{\"round\": $1, /"; }

for round in $(seq 1 "$rounds"); do
    for w in ${workloads//,/ }; do
        echo "== round $round/$rounds, $w: backprop bench (threads $threads, BACKPROP_BLAS=${BACKPROP_BLAS:-auto})" >&2
        ours_args=(bench --json --seconds "$seconds" --workload "$w")
        [ -n "$label" ] && ours_args+=(--build-label "$label")
        BACKPROP_THREADS="$threads" "$binary" "${ours_args[@]}" | tag "$round" >> "$ours"
        for peer in torch jax numpy; do
            echo "== round $round/$rounds, $w: $peer" >&2
            peer_args=(--threads "$threads" --seconds "$seconds" --workload "$w")
            if [ "$peer" = numpy ]; then
                # NumPy's bundled OpenBLAS must pick its own kernels: this machine's image may set these.
                env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${peer_env[@]}" "${PYTHON:-python3}" "bench/peers/${peer}_bench.py" "${peer_args[@]}" | tag "$round" >> "$peers" || echo "$peer: failed" >&2
            else
                env "${peer_env[@]}" "${PYTHON:-python3}" "bench/peers/${peer}_bench.py" "${peer_args[@]}" | tag "$round" >> "$peers" || echo "$peer: failed" >&2
            fi
        done
    done
done

python3 bench/compare.py "$ours" "$peers"
echo "(raw results in $out)" >&2
