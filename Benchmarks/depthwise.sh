#!/bin/bash
# Depthwise convolution, Percept beside PyTorch (RESULTS.md, "Depthwise convolution"):
#   Benchmarks/depthwise.sh [ROUNDS]   (needs `swift build -c release --product percept-bench` and torch)
# One JSON line per measurement; every variant once per round, interleaved.
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release/percept-bench; P=Benchmarks/peers/torch_depthwise.py
for round in $(seq "${1:-3}"); do
  for layer in "--channels 96 --size 112 --kernel 3 --stride 1" "--channels 96 --size 112 --kernel 3 --stride 2" \
               "--channels 240 --size 28 --kernel 5 --stride 1" "--channels 1152 --size 7 --kernel 5 --stride 1"; do
    $B depthwise $layer --batch 32 --threads 2
    $B depthwise $layer --batch 32 --threads 2 --no-avx2 | head -1
    python3 $P $layer --batch 32 --threads 2
    python3 $P $layer --batch 32 --threads 2 --padding symmetric
  done
done
