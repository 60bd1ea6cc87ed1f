#!/usr/bin/env bash
# Data-parallel transfer learning on MPI (issue 17): `percept train` on flowers12's train/ with the
# EfficientNet-Lite0 backbone from ../shared and no feature cache (so the backbone runs), frozen and with
# --fine-tune 1, as one process with one thread, one process with two threads, and `mpirun -np 2` with one
# thread per rank. One JSON line per run: wall seconds (the whole command, start-up included) and the
# validation accuracy `--json` reports.
#   Benchmarks/distributed-transfer.sh [FINE_TUNE_EPOCHS]
# Needs Open MPI (scripts/bootstrap) and ../shared (models/efficientnet-lite0.onnx, datasets/flowers12-jpg.tar.gz).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
model=../shared/models/efficientnet-lite0.onnx
[ -f "$model" ] || { echo "distributed-transfer.sh: $model not found" >&2; exit 1; }
epochs=${1:-2}
swift build -c release --product percept >/dev/null
percept=$PWD/.build/release/percept
work=${PERCEPT_TRANSFER_WORK:-/tmp/percept-distributed-transfer}
flowers=$work/flowers
[ -d "$flowers/flowers12" ] || { mkdir -p "$flowers" && tar -xzf ../shared/datasets/flowers12-jpg.tar.gz -C "$flowers"; }
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"

# run NAME COMMAND…: times the command; prints its name, seconds and validation accuracy.
run() {
  local name=$1; shift
  local start end summary
  start=$(date +%s.%N)
  summary=$("$@")
  end=$(date +%s.%N)
  python3 -c 'import json, sys
summary = json.loads(sys.argv[3])
print(json.dumps({"tool": "percept-train-transfer", "run": sys.argv[1], "seconds": round(float(sys.argv[2]), 2),
                  "validation_accuracy": summary.get("validationAccuracy")}))' "$name" "$(echo "$end - $start" | bc)" "$summary"
}

for variant in frozen fine-tuned; do
  args=(train "$flowers/flowers12/train" --model transfer --backbone "$model" --feature-cache none --json
        -o "$work/$variant.percept")
  [ "$variant" = fine-tuned ] && args+=(--fine-tune 1 --fine-tune-epochs "$epochs")
  run "$variant, 1 process, 1 thread" "$percept" "${args[@]}" --threads 1
  run "$variant, 1 process, 2 threads" env OPENBLAS_NUM_THREADS=2 "$percept" "${args[@]}" --threads 2
  run "$variant, mpirun -np 2, 1 thread each" mpirun -np 2 --bind-to none "$percept" "${args[@]}" --threads 1 --distributed
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
