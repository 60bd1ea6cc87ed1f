#!/usr/bin/env bash
# CNN throughput, Percept and PyTorch back to back in one run: training steps and inference of
# airbench94 and ResNet-20 at batch 512 on 2 threads (Benchmarks/RESULTS.md, "CNN engine").
#   Benchmarks/cnn.sh [steps]        (needs: swift build -c release --product percept-bench; pip install torch)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3}
bench=.build/release/percept-bench
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
for arch in airbench94 resnet20; do
    for parallelism in automatic batch blas; do
        "$bench" cnn --arch "$arch" --batch 512 --threads 2 --steps "$steps" --parallelism "$parallelism"
    done
    python3 Benchmarks/peers/torch_cnn.py --arch "$arch" --batch 512 --threads 2 --steps "$steps" --layout both
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
