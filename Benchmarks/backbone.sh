#!/usr/bin/env bash
# Backbone inference, Percept beside onnxruntime and PyTorch eager in one run (RESULTS.md, "Backbone inference"):
# EfficientNet-Lite0 at 224×224, batch 32, 2 threads.
#   Benchmarks/backbone.sh [ROUNDS] [RUNS]
#   (needs ../shared/models/efficientnet-lite0.onnx; pip install onnxruntime torch [onnx2torch];
#    for the Percept half: swift build -c release --product percept-bench)
# One JSON line per measurement; each round runs every side once, so rounds interleave them
# (this machine's speed drifts between minutes; compare medians over rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
runs=${2:-10}
model=../shared/models/efficientnet-lite0.onnx
bench=.build/release/percept-bench
[ -f "$model" ] || { echo "backbone.sh: $model not found" >&2; exit 1; }
# The Percept half runs only once percept-bench has the subcommand (its source names it and the
# release binary is built); until then the peers run alone.
percept=no
if grep -q 'case "backbone"' Benchmarks/PerceptBench/*.swift 2>/dev/null; then
    if [ -x "$bench" ]; then percept=yes
    else echo "# $bench not built: swift build -c release --product percept-bench; peers only" >&2; fi
else
    echo "# percept-bench has no backbone subcommand yet; peers only" >&2
fi
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
for round in $(seq "$rounds"); do
    if [ "$percept" = yes ]; then
        "$bench" backbone --model "$model" --batch 32 --threads 2 --runs "$runs"
    fi
    python3 Benchmarks/peers/ort_backbone.py --model "$model" --batch 32 --threads 2 --runs "$runs" --torch
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
