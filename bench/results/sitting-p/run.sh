#!/bin/bash
# Sitting P (fifth session, a Zen 3 host): the two workloads with open targets.
# 1. Softmax: the C model, our kernels (bench) and PyTorch, round by round, 1 and 2 threads.
# 2. The MLP step through compare.sh, 5 interleaved rounds, Swift kernels and OpenBLAS, 1 and 2 threads.
set -u
cd "$(dirname "$0")/../../.."
out=bench/results/sitting-p
(
export MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=33554432
for t in 1 2; do
  for r in 1 2 3 4 5; do
    echo "{\"round\": $r, \"threads\": $t, \"c_model\": \"$(bench/SoftmaxReference/.build/release/softmax-reference 20 $t | awk '/^C forward  /{f=$3} /^C VJP  /{v=$3} /^vjp API/{a=$4} END{printf "%s %s %s", f, v, a}')\"}" >> $out/softmax-cmodel.jsonl
    BACKPROP_THREADS=$t BACKPROP_BLAS=off .build-haswell/release/backprop bench --json --workload softmax --build-label haswell | sed "s/^{/{\"round\": $r, /" >> $out/softmax-ours.jsonl
    python3 bench/peers/torch_bench.py --threads $t --seconds 1 --workload softmax | sed "s/^{/{\"round\": $r, /" >> $out/softmax-peers.jsonl
  done
done
)
for blas in off openblas; do
  for t in 1 2; do
    env_blas=$([ $blas = off ] && echo off || echo auto)
    OUT_DIR=/tmp/sitp-$blas-$t BACKPROP_BLAS=$env_blas bench/compare.sh --threads $t --workload mlp-step --rounds 5 \
      --binary .build-haswell/release/backprop --label haswell > $out/mlp-$blas-t$t.txt 2>/dev/null
    cp /tmp/sitp-$blas-$t/ours-t$t.jsonl $out/mlp-haswell-$blas-t$t.jsonl
    cp /tmp/sitp-$blas-$t/peers-t$t.jsonl $out/mlp-peers-$blas-t$t.jsonl
  done
done
echo done > /tmp/sitp-DONE
