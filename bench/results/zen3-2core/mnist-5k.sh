#!/usr/bin/env bash
# The mnist-5k table of docs/performance.md ("Convolutional networks"): the reference CNN, 10
# epochs on data/mnist-5k with `backprop train --arch cnn` (the default release build, default
# settings) and bench/peers/torch_mnist5k.py on the same split and batch order, in turn, seeds
# 0, 1, 2, on 1 and 2 threads: test accuracy and wall seconds of the whole process. Writes
# mnist-5k.jsonl (one line per run) and each run's output next to this script.
#
#   swift build -c release --product backprop
#   PYTHON=/path/to/venv/bin/python bench/results/zen3-2core/mnist-5k.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=bench/results/zen3-2core
binary=.build/release/backprop
python="${PYTHON:-python3}"
data=(--data data/mnist-5k/images-idx3-ubyte.gz --labels data/mnist-5k/labels-idx1-ubyte.gz)
now() { date +%s.%N; }
# record BACKEND THREADS SEED START END ACCURACY: one line of mnist-5k.jsonl
record() {
    python3 -c "import json,sys; b,t,s,t0,t1,a=sys.argv[1:]; print(json.dumps({'workload': 'mnist-5k', 'threads': int(t), 'seed': int(s), 'backend': b, 'wall_seconds': round(float(t1) - float(t0), 2), 'accuracy': float(a)}))" "$@" >> "$here/mnist-5k.jsonl"
}
: > "$here/mnist-5k.jsonl"
for t in 1 2; do
    for seed in 0 1 2; do
        start=$(now)
        BACKPROP_THREADS=$t "$binary" train "${data[@]}" --arch cnn --epochs 10 --seed "$seed" > "$here/mnist-5k-ours-t$t-s$seed.txt"
        end=$(now)
        accuracy=$(awk '/^test accuracy/ { sub("%", "", $3); print $3 / 100 }' "$here/mnist-5k-ours-t$t-s$seed.txt")
        record backprop "$t" "$seed" "$start" "$end" "$accuracy"
        start=$(now)
        "$python" bench/peers/torch_mnist5k.py --threads "$t" --seeds "$seed" --json > "$here/mnist-5k-torch-t$t-s$seed.json"
        end=$(now)
        accuracy=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['accuracy'])" "$here/mnist-5k-torch-t$t-s$seed.json")
        record pytorch-eager "$t" "$seed" "$start" "$end" "$accuracy"
        echo "threads $t, seed $seed done" >&2
    done
done
cat "$here/mnist-5k.jsonl"
