#!/usr/bin/env bash
# CNN throughput, Percept and PyTorch back to back in one run: training steps and inference of
# airbench94 and ResNet-20 at batch 512 on 2 threads (Benchmarks/RESULTS.md, "CNN engine").
#   Benchmarks/cnn.sh [steps] [rounds]   (needs: swift build -c release --product percept-bench; pip install torch)
# Each round runs every variant once, so rounds interleave the two sides (this machine's speed drifts by
# ±15% between minutes; compare medians over rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3}
rounds=${2:-1}
bench=.build/release/percept-bench
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
for round in $(seq "$rounds"); do
    for arch in airbench94 resnet20; do
        for parallelism in automatic batch blas; do
            "$bench" cnn --arch "$arch" --batch 512 --threads 2 --steps "$steps" --parallelism "$parallelism"
        done
        python3 Benchmarks/peers/torch_cnn.py --arch "$arch" --batch 512 --threads 2 --steps "$steps" --layout both
    done
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
