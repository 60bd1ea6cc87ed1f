#!/usr/bin/env bash
# Transfer learning's accuracy (issue 15), through the CLI a user runs, with EfficientNet-Lite0 from ../shared:
#  - CIFAR-10 few-shot: 100 training images per class (the first 100 of each label folder, sorted), 50 more
#    per class to choose the head's L2 on (val/), and 100 more per class as a test split (test/), never
#    seen in training; images are 32×32, enlarged by the backbone's preprocessing (shorter side 256,
#    centre crop 224). Frozen head, fine-tuned, and airbench94 from scratch on the same 1,000 images.
#  - flowers12: its train/ (72 images carved for validation) and its test/ split, frozen and fine-tuned.
#  - optional (FULL=1): the frozen head on 45,000 CIFAR-10 training images, validated on the other 5,000.
# Anchors (../shared/models/README.md): onnxruntime features + scikit-learn logistic regression reach 71.1%
# (CIFAR few-shot) and 96.7% (flowers12 test).
#   Benchmarks/transfer-accuracy.sh            (about 6 minutes here; FULL=1 adds about 15)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
model=../shared/models/efficientnet-lite0.onnx
[ -f "$model" ] || { echo "transfer-accuracy.sh: $model not found" >&2; exit 1; }
swift build -c release --product percept >/dev/null
percept=$PWD/.build/release/percept
work=${PERCEPT_ACCURACY_WORK:-/tmp/percept-transfer-accuracy}
export PERCEPT_CACHE=$work/cache
mkdir -p "$work"
$percept backbone add "$model" --name efficientnet-lite0 >/dev/null 2>&1 || true
cifar=${PERCEPT_BENCH_DATA:-$HOME/.cache/percept/cifar10}
if [ ! -d "$cifar/train" ]; then mkdir -p "$cifar" && tar -xzf ../shared/datasets/cifar10-train-jpg.tar.gz -C "$cifar"; fi
flowers=$work/flowers
[ -d "$flowers/flowers12" ] || { mkdir -p "$flowers" && tar -xzf ../shared/datasets/flowers12-jpg.tar.gz -C "$flowers"; }

few=$work/cifar-fewshot
if [ ! -d "$few" ]; then
  for label in $(ls "$cifar/train"); do
    files=$(ls "$cifar/train/$label" | sort | head -250)
    mkdir -p "$few/train/$label" "$few/val/$label" "$few/test/$label"
    echo "$files" | sed -n 1,100p | while read -r f; do cp "$cifar/train/$label/$f" "$few/train/$label/"; done
    echo "$files" | sed -n 101,150p | while read -r f; do cp "$cifar/train/$label/$f" "$few/val/$label/"; done
    echo "$files" | sed -n 151,250p | while read -r f; do cp "$cifar/train/$label/$f" "$few/test/$label/"; done
  done
fi

# run NAME DATA TRAIN-ARGS…: train (timed), then evaluate on DATA's test split; one JSON line.
run() {
  local name=$1 data=$2; shift 2
  local start end validation test
  start=$(date +%s.%N)
  validation=$($percept train "$data" "$@" -o "$work/$name.percept" 2>&1 | sed -n 's/.*validation accuracy: \([0-9.]*\)%.*/\1/p' | tail -1)
  end=$(date +%s.%N)
  test=$($percept evaluate "$work/$name.percept" "$data" 2>/dev/null | sed -n 's/.*test images: accuracy \([0-9.]*\)%.*/\1/p')
  printf '{"run":"%s","validation_accuracy":%s,"test_accuracy":%s,"train_seconds":%.1f}\n' \
    "$name" "${validation:-null}" "${test:-null}" "$(echo "$end - $start" | bc)"
}

echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
run cifar-fewshot-frozen "$few" --model transfer --backbone efficientnet-lite0
run cifar-fewshot-frozen-again "$few" --model transfer --backbone efficientnet-lite0 --l2 1e-2   # features from the cache
run cifar-fewshot-fine-tuned "$few" --model transfer --backbone efficientnet-lite0 --fine-tune 2 --fine-tune-epochs 15
run cifar-fewshot-airbench94-scratch "$few" --model cnn --arch airbench94 --epochs 40
run flowers12-frozen "$flowers/flowers12" --model transfer --backbone efficientnet-lite0
run flowers12-fine-tuned "$flowers/flowers12" --model transfer --backbone efficientnet-lite0 --fine-tune 3 --fine-tune-epochs 30
if [ "${FULL:-0}" = 1 ]; then
  # 45,000 / 5,000: the pack's own 80/10/10 would hold out a test split too; here train/ is all 50,000 and
  # the family carves 10% for validation.
  run cifar10-45k-frozen "$cifar" --model transfer --backbone efficientnet-lite0
fi
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
