#!/usr/bin/env bash
# Times one workload with two builds of `backprop` in interleaved pairs and prints each pair's
# times and the median of the per-pair time ratios B ÷ A (below 1: B is faster).
#
#   bench/pairs.sh [--rounds R] [--threads N] [--seconds S] WORKLOAD BINARY_A BINARY_B
#
# For before/after comparisons of a change on this noisy machine: the two sides of each ratio
# run seconds apart, so the machine's slow and fast phases (minutes long) hit both alike. Times
# come from `bench --json` (`median_ms`), never from the text table, whose columns shift with
# the shape's spelling. The GEMM backend follows BACKPROP_BLAS (default here: off).
set -euo pipefail

rounds=7
threads="${BACKPROP_THREADS:-1}"
seconds=1
while [ $# -gt 3 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        *) echo "pairs.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 3 ] || { echo "usage: bench/pairs.sh [--rounds R] [--threads N] [--seconds S] WORKLOAD BINARY_A BINARY_B" >&2; exit 2; }
workload="$1"; a="$2"; b="$3"
case "$workload" in
    gemm|mlp-step|softmax|jacobian|digits|cnn-step) ;;
    *) echo "pairs.sh: unknown workload $workload (gemm, mlp-step, softmax, jacobian, digits, cnn-step)" >&2; exit 2 ;;
esac
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "pairs.sh: --rounds needs a positive integer, got $rounds" >&2; exit 2; }
for binary in "$a" "$b"; do
    [ -x "$binary" ] || { echo "pairs.sh: $binary is not an executable" >&2; exit 2; }
done

# The median time of one `bench` run of the workload, in milliseconds.
time_of() {
    BACKPROP_THREADS="$threads" BACKPROP_BLAS="${BACKPROP_BLAS:-off}" \
        "$1" bench --json --seconds "$seconds" --workload "$workload" |
        python3 -c 'import json, sys; print([json.loads(l) for l in sys.stdin if l.startswith("{")][-1]["median_ms"])'
}

python3 - "$rounds" <<'PY' 3< <(for _ in $(seq "$rounds"); do echo "$(time_of "$a") $(time_of "$b")"; done)
import os, statistics, sys
pairs = [tuple(map(float, line.split())) for line in os.fdopen(3)]
ratios = [b / a for a, b in pairs]
for (a, b), r in zip(pairs, ratios):
    print(f"A {a:9.3f} ms   B {b:9.3f} ms   B/A {r:.3f}")
print(f"median time ratio B/A over {len(ratios)} pairs: {statistics.median(ratios):.3f} "
      f"(range {min(ratios):.3f}–{max(ratios):.3f})")
PY
