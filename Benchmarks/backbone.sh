#!/usr/bin/env bash
# Backbone inference, Percept beside onnxruntime and PyTorch eager in one run (RESULTS.md, "Backbone inference"):
# EfficientNet-Lite0 at 224×224, batch 32, 2 threads.
#   Benchmarks/backbone.sh [ROUNDS] [RUNS]
#   (needs ../shared/models/efficientnet-lite0.onnx; pip install onnxruntime torch [onnx2torch])
# One JSON line per measurement; each round runs every side once, so rounds interleave them
# (this machine's speed drifts between minutes; compare medians over rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
rounds=${1:-3}
runs=${2:-10}
model=../shared/models/efficientnet-lite0.onnx
bench=.build/release/percept-bench
[ -f "$model" ] || { echo "backbone.sh: $model not found" >&2; exit 1; }
swift build -c release --product percept-bench >/dev/null
# Agreement first (1,000 images, top-1 against onnxruntime's, from Tests/Fixtures/onnx), then speed.
"$bench" backbone "$model" --oracle Tests/Fixtures/onnx/efficientnet-lite0-oracle.json
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
for round in $(seq "$rounds"); do
    "$bench" backbone "$model" --batch 32 --threads 2 --steps "$runs"
    python3 Benchmarks/peers/ort_backbone.py --model "$model" --batch 32 --threads 2 --runs "$runs" --torch
done
# Where Percept's time goes, by kind of step (one worker, batch 32).
"$bench" backbone "$model" --batch 32 --profile
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
