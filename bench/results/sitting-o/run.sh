#!/bin/bash
# Sitting O: every workload in three interleaved rounds (Swift kernels, haswell build), the BLAS
# route's MLP step in three rounds, and one run of each other build/backend, 1 and 2 threads.
cd /work/main
O=/tmp/sito
H=.build-haswell/release/backprop
for t in 1 2; do
  OUT_DIR=$O/off-t$t  BACKPROP_BLAS=off  bench/compare.sh --threads $t --rounds 3 --binary $H --label haswell > $O/off-t$t.txt 2>&1
  OUT_DIR=$O/blas-t$t BACKPROP_BLAS=auto bench/compare.sh --threads $t --workload mlp-step --rounds 3 --binary $H --label haswell > $O/blas-t$t.txt 2>&1
  BACKPROP_BLAS=auto BACKPROP_THREADS=$t $H bench --json --build-label haswell | grep -v '"mlp-step"' > $O/haswell-openblas-rest-t$t.jsonl
  BACKPROP_BLAS=off  BACKPROP_THREADS=$t .build-default/release/backprop bench --json > $O/default-off-t$t.jsonl
  BACKPROP_BLAS=auto BACKPROP_THREADS=$t .build-default/release/backprop bench --json > $O/default-openblas-t$t.jsonl
done
/usr/bin/time -v $H train --out /tmp/sito-model.safetensors > $O/train.txt 2>&1
echo done > $O/DONE
