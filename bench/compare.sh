#!/usr/bin/env bash
# Runs `backprop bench` and the PyTorch, JAX and NumPy peers (bench/peers/) with the same thread
# count, in one go, and prints each measurement with its time ratio against every peer.
#
#   bench/compare.sh [--threads N] [--workload ID[,ID...]] [--rounds R] [--binary PATH] [--label NAME]
#                    [--seconds S] [--tuned-peers]
#
# Workload by workload, ours then each peer, so that the two sides of a ratio run seconds apart
# rather than minutes (this machine has slow and fast phases lasting minutes). With --rounds R
# the whole sequence repeats R times; every JSON line carries its round, and the printed ratio
# is the median of the per-round ratios, with their range.
#
# --binary: a built `backprop` (default: build release into .build and use it);
# --label: the build's name in the backend column.
# Threads default to BACKPROP_THREADS, else all cores. The GEMM backend follows BACKPROP_BLAS,
# the kernels' instruction set BACKPROP_ISA (default: the best the CPU has).
# The peers run as their users run them: their own defaults, no allocator settings of ours.
# --tuned-peers adds a second run of each peer with glibc told to keep freed memory (what
# `backprop` does for itself, AllocatorTuning.retainFreedMemory), reported beside the default
# with "+retain" after the backend.
# PYTHON: the interpreter with torch, jax and numpy (default: python3).
# The `machine` workload (peak and STREAM triad) has no peer; it runs for ours only.
# Raw JSON lines are kept in $OUT_DIR (default: a temporary folder, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

threads="${BACKPROP_THREADS:-$(nproc)}"
workload=""
rounds=1
binary=""
label=""
seconds="1"
tuned=0
python="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --workload) workload="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --tuned-peers) tuned=1; shift ;;
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
workloads="${workload:-gemm,mlp-step,softmax,jacobian,digits,cnn-step,machine}"

# The tuned variant: the allocator settings `backprop` gives itself (freed blocks up to 256 MiB
# kept for reuse, blocks up to 32 MiB from the heap).
tuned_env=(MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=33554432 BENCH_BACKEND_SUFFIX=+retain)

# Tags each JSON line with its round (other lines, such as a peer's "skipped" message, pass).
tag() { sed "s/^{/{\"round\": $1, /"; }

# One peer script, in the environment given before its name (NumPy's bundled OpenBLAS must pick
# its own kernels: this machine's image may set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE).
run_peer() {
    local round="$1" peer="$2"; shift 2
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@" "$python" "bench/peers/${peer}_bench.py" "${peer_args[@]}" \
        | tag "$round" >> "$peers" || echo "$peer: failed" >&2
}

echo "== cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')); flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512dq' | tr '\n' ' ')" >&2

for round in $(seq 1 "$rounds"); do
    for w in ${workloads//,/ }; do
        echo "== round $round/$rounds, $w: backprop bench (threads $threads, BACKPROP_BLAS=${BACKPROP_BLAS:-auto}, BACKPROP_ISA=${BACKPROP_ISA:-auto})" >&2
        ours_args=(bench --json --seconds "$seconds" --workload "$w")
        [ -n "$label" ] && ours_args+=(--build-label "$label")
        BACKPROP_THREADS="$threads" "$binary" "${ours_args[@]}" | tag "$round" >> "$ours"
        [ "$w" = machine ] && continue
        for peer in torch jax numpy; do
            echo "== round $round/$rounds, $w: $peer" >&2
            peer_args=(--threads "$threads" --seconds "$seconds" --workload "$w")
            run_peer "$round" "$peer"
            if [ "$tuned" = 1 ]; then
                echo "== round $round/$rounds, $w: $peer with the allocator settings" >&2
                run_peer "$round" "$peer" "${tuned_env[@]}"
            fi
        done
    done
done

python3 bench/compare.py "$ours" "$peers"
echo "(raw results in $out)" >&2
