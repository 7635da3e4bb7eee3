#!/bin/bash
# Softmax: the C model, our kernels (bench) and PyTorch, round by round, 1 and 2 threads.
cd /work/main
export MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=33554432
for t in 1 2; do
  for r in 1 2 3 4 5; do
    echo "{\"round\": $r, \"threads\": $t, \"c_model\": \"$(bench/SoftmaxReference/.build/release/softmax-reference 20 $t | awk '/^C forward  /{f=$3} /^C VJP  /{v=$3} /^vjp API/{a=$4} END{printf "%s %s %s", f, v, a}')\"}" >> /tmp/sitn/cmodel.jsonl
    BACKPROP_THREADS=$t BACKPROP_BLAS=off .build-haswell/release/backprop bench --json --workload softmax --build-label haswell | sed "s/^{/{\"round\": $r, /" >> /tmp/sitn/ours.jsonl
    python3 bench/peers/torch_bench.py --threads $t --seconds 1 --workload softmax | sed "s/^{/{\"round\": $r, /" >> /tmp/sitn/peers.jsonl
  done
done
echo done > /tmp/sitn/DONE
