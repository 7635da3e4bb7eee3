#!/bin/bash
# The convolutional workloads of docs/performance.md ("Convolutional networks"), from the
# repository root:
#
#   PYTHON=/path/to/venv/bin/python bench/results/cnn/run.sh BACKPROP_BINARY [OUT_DIR]
#
# BACKPROP_BINARY: a release build of `backprop`, e.g. built with
#   swift build -c release -Xswiftc -target-cpu -Xswiftc haswell --build-path .build-haswell --product backprop
# $PYTHON must import torch. Writes into OUT_DIR (default bench/results/cnn):
# - cnn-step: seven interleaved rounds of ours and PyTorch eager (bench/compare.sh), 1 and 2 threads;
# - mnist-5k: the reference CNN, 10 epochs on data/mnist-5k with `backprop train --arch cnn`
#   and bench/peers/torch_mnist5k.py on the same split and batch order, in turn, seeds 0, 1, 2,
#   1 and 2 threads: test accuracy and wall seconds of the whole process.
set -euo pipefail
binary="$1"
out="${2:-bench/results/cnn}"
python="${PYTHON:-python3}"
mkdir -p "$out"
{ lscpu | grep -E "Model name|CPU family|^Model:|^CPU\(s\)|L1d|L2|L3"; swift --version 2>&1 | head -1; "$python" -c "import torch; print('torch', torch.__version__)"; echo "start: $(uptime)"; } > "$out/machine.txt"
data=(--data data/mnist-5k/images-idx3-ubyte.gz --labels data/mnist-5k/labels-idx1-ubyte.gz)
for t in 1 2; do
  OUT_DIR="$out/cnn-step-t$t" PYTHON="$python" BACKPROP_BLAS=off \
    bench/compare.sh --threads "$t" --workload cnn-step --rounds 7 --binary "$binary" --label haswell > "$out/cnn-step-t$t.txt" 2>&1
done
: > "$out/mnist-5k.jsonl"
for t in 1 2; do
  for seed in 0 1 2; do
    start=$(date +%s.%N)
    BACKPROP_THREADS=$t BACKPROP_BLAS=off "$binary" train "${data[@]}" --arch cnn --epochs 10 --seed "$seed" > "$out/mnist-5k-ours-t$t-s$seed.txt"
    end=$(date +%s.%N)
    accuracy=$(awk '/^test accuracy/ { sub("%", "", $3); print $3 / 100 }' "$out/mnist-5k-ours-t$t-s$seed.txt")
    echo "{\"workload\": \"mnist-5k\", \"threads\": $t, \"seed\": $seed, \"backend\": \"swift-haswell\", \"wall_seconds\": $(echo "$end - $start" | bc), \"accuracy\": $accuracy}" >> "$out/mnist-5k.jsonl"
    start=$(date +%s.%N)
    "$python" bench/peers/torch_mnist5k.py --threads "$t" --seeds "$seed" --json > "$out/mnist-5k-torch-t$t-s$seed.json"
    end=$(date +%s.%N)
    accuracy=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['accuracy'])" "$out/mnist-5k-torch-t$t-s$seed.json")
    echo "{\"workload\": \"mnist-5k\", \"threads\": $t, \"seed\": $seed, \"backend\": \"pytorch-eager\", \"wall_seconds\": $(echo "$end - $start" | bc), \"accuracy\": $accuracy}" >> "$out/mnist-5k.jsonl"
  done
done
echo "end: $(uptime)" >> "$out/machine.txt"
