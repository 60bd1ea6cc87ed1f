#!/usr/bin/env bash
# Checks `percept evaluate`'s metrics against scikit-learn's classification_report on the same
# predictions (Benchmarks/peers/check_metrics_sklearn.py). Not a CI dependency: needs Python with
# scikit-learn (installed here if missing). Usage: Benchmarks/check-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
python3 -c "import sklearn" 2>/dev/null || python3 -m pip install -q scikit-learn
swift build -c release --product percept >/dev/null
percept=.build/release/percept
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The built-in shapes (600 images) and a tiny version whose 10-image test splits leave some
# classes never predicted (precision undefined), for five split seeds.
$percept dataset synthesize -o "$work/shapes" --folders --per-class 60 >/dev/null
$percept dataset synthesize -o "$work/tiny" --folders --per-class 12 --size 8x8 --seed 3 >/dev/null
for model in knn ncm; do
  $percept train "$work/shapes" --model "$model" -o "$work/$model.percept" --quiet 2>/dev/null
  $percept evaluate "$work/$model.percept" "$work/shapes" --split all --json 2>/dev/null > "$work/shapes-$model.json"
done
$percept train "$work/tiny" --model ncm -o "$work/tiny.percept" --quiet 2>/dev/null
for seed in 1 2 3 4 5; do
  $percept evaluate "$work/tiny.percept" "$work/tiny" --seed "$seed" --json 2>/dev/null > "$work/tiny-$seed.json"
done
python3 Benchmarks/peers/check_metrics_sklearn.py "$work"/*.json
