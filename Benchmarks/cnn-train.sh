#!/usr/bin/env bash
# Accuracy in wall time (issue 5): airbench94 with its recipe on CIFAR-10 (45,000 train / 5,000
# validation = pack items whose index is a multiple of 10), Percept then PyTorch on the same data,
# epochs and time limit, one after the other; validation accuracy against wall time as JSON lines
# and the chart Benchmarks/charts/cnn-curve.{svg,png}.
#   Benchmarks/cnn-train.sh EPOCHS [TIME_LIMIT_SECONDS] [percept|torch|both]
# Needs ../shared/datasets (or ~/.cache/percept/cifar10) and pip install torch for the PyTorch side.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
epochs=${1:?usage: Benchmarks/cnn-train.sh EPOCHS [TIME_LIMIT_SECONDS] [percept|torch|both]}
limit=${2:-3600}
sides=${3:-both}
source Benchmarks/cifar-pack.sh   # sets $bench and $pack
log=${PERCEPT_BENCH_LOG:-Benchmarks/charts/cnn-curve.jsonl}
mkdir -p "$(dirname "$log")"
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
if [ "$sides" != torch ]; then
  # PERCEPT_CNN_ARGS: extra flags, e.g. "--validate final" (no validation between epochs).
  $bench cnn-train "$pack" --recipe airbench94 --epochs "$epochs" --time-limit "$limit" --threads 2 ${PERCEPT_CNN_ARGS:-} | tee -a "$log"
fi
if [ "$sides" != percept ]; then
  python3 Benchmarks/peers/torch_airbench.py "$pack" --epochs "$epochs" --time-limit "$limit" --threads 2 | tee -a "$log"
fi
$bench chart cnn-curve "$log" Benchmarks/charts/cnn-curve
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
