#!/usr/bin/env bash
# Side-by-side benchmarks, one run on this machine.
# Usage: Benchmarks/run.sh [import|knn|ivf|scaling|linear]  (no argument: all)
# Needs ../shared/datasets (CIFAR-10 training JPEGs) and Python with numpy + Pillow, and faiss-cpu
# for knn (installed here if missing).
#   knn: exact k-NN, 10,000 queries (the last images of the pack) against all 50,000 (--index-all),
#        k = 20; faiss L1 takes minutes for 10,000 queries, so the L1 comparison runs
#        KNN_L1_QUERIES (default 1,000) queries on both sides — scale by 10 for 10,000.
#        L2 runs twice: the pooled-bound search (default) and the full GEMM (--l2-search gemm).
#   ivf: 10,000 held-out queries against the other 40,000: exact, then IVF nlist 256 at nprobe
#        1/4/8/16/32, Percept and faiss IndexIVFFlat, recall@1/@10; the trade-off chart
#        (ivf-tradeoff.svg/.png) and the 1-NN … 20-NN accuracies on the same hold-out.
#   scaling: exact L1/L2 search time of 1,000 queries vs 5k … 40k stored images; scaling.svg/.png.
#   Charts go to $PERCEPT_BENCH_OUT (default Benchmarks/charts).
#   linear: SVM/softmax minibatch SGD (3,000 steps of 200) beside the same loop in numpy and beside
#        scikit-learn's SGDClassifier (needs scikit-learn, installed if missing); then the two-layer
#        net and HOG+colour models (Percept only). 45,000 train / 5,000 validation (index % 10 == 0).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

archive=../shared/datasets/cifar10-train-jpg.tar.gz
data=${PERCEPT_BENCH_DATA:-$HOME/.cache/percept/cifar10}
if [ ! -d "$data/train" ]; then
  [ -f "$archive" ] || { echo "run.sh: $archive not found" >&2; exit 1; }
  mkdir -p "$data" && tar -xzf "$archive" -C "$data"
fi
mode=${1:-all}
case "$mode" in import|knn|ivf|scaling|linear|all) ;; *) echo "usage: Benchmarks/run.sh [import|knn|ivf|scaling|linear]" >&2; exit 1 ;; esac
out=${PERCEPT_BENCH_OUT:-Benchmarks/charts}
mkdir -p "$out"
python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install -q numpy pillow
swift build -c release --product percept-bench >/dev/null
bench=.build/release/percept-bench
work=$(mktemp -d)
pack=$work/cifar10-train.pack

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# python $(python3 -c 'import sys, PIL, numpy; print(sys.version.split()[0], "Pillow", PIL.__version__, "numpy", numpy.__version__)')"
# Warm the page cache so every tool reads the same in-memory files.
find "$data/train" -type f -exec cat {} + > /dev/null
$bench import "$data/train" "$pack" | { if [ "$mode" = all ] || [ "$mode" = import ]; then cat; else cat >/dev/null; fi; }
echo "# load: $(uptime)"
if [ "$mode" = all ] || [ "$mode" = import ]; then
  python3 Benchmarks/peers/pillow_decode.py "$data/train"
  python3 Benchmarks/peers/pillow_decode.py "$data/train" --processes "$(nproc)"
fi
python3 -c "import faiss" 2>/dev/null || python3 -m pip install -q faiss-cpu numpy
if [ "$mode" = all ] || [ "$mode" = knn ]; then
  l1q=${KNN_L1_QUERIES:-1000}
  $bench knn "$pack" --queries 10000 --k 20 --index-all --write "$work/percept"
  $bench knn "$pack" --queries 10000 --k 20 --index-all --metrics l2 --l2-search gemm
  python3 Benchmarks/peers/faiss_knn.py "$pack" --queries 10000 --k 20 --index-all --l1-queries "$l1q" --write "$work/faiss"
  python3 Benchmarks/peers/compare_knn.py "$work/percept-l2.i32" "$work/faiss-l2.i32" --k 20 --tool agreement-l2
  python3 Benchmarks/peers/compare_knn.py "$work/percept-l1.i32" "$work/faiss-l1.i32" --k 20 --tool agreement-l1
fi
if [ "$mode" = all ] || [ "$mode" = ivf ]; then
  { $bench ivf "$pack" --queries 10000 --k 20 --nlist 256 --nprobe 1,4,8,16,32
    (cd Benchmarks/peers && python3 faiss_ivf.py "$pack" --queries 10000 --k 20 --nlist 256 --nprobe 1,4,8,16,32)
  } | tee "$work/ivf.jsonl"
  $bench chart ivf "$work/ivf.jsonl" "$out/ivf-tradeoff"
  $bench accuracy "$pack" --queries 10000
fi
if [ "$mode" = all ] || [ "$mode" = scaling ]; then
  $bench scaling "$pack" --sizes 5000,10000,20000,30000,40000 --queries 1000 --k 20 | tee "$work/scaling.jsonl"
  $bench chart scaling "$work/scaling.jsonl" "$out/scaling"
fi
echo "# load: $(uptime)"
if [ "$mode" = linear ] || [ "$mode" = all ]; then
  python3 -c "import sklearn" 2>/dev/null || python3 -m pip install -q scikit-learn
  echo "# load: $(uptime | sed 's/.*load average/load average/')"
  # Same steps on both sides, back to back: (model, learning rate, regularisation, target accuracy).
  for setting in "svm 1e-3 1e-4 0.39" "softmax 1e-2 1e-3 0.40"; do
    set -- $setting
    $bench linear "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 --epochs 14 --iterations 3000
    python3 Benchmarks/peers/linear_numpy.py "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 --epochs 14 --iterations 3000
    $bench linear "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 --epochs 14 --target "$4"
    python3 Benchmarks/peers/linear_numpy.py "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 --epochs 14 --target "$4"
    # One core each (OpenBLAS threads fight other load; this pair compares the loops themselves).
    $bench linear "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 --epochs 14 --iterations 3000 --threads 1
    OPENBLAS_NUM_THREADS=1 python3 Benchmarks/peers/linear_numpy.py "$pack" --model "$1" --lr "$2" --reg "$3" --decay 0.8 \
      --epochs 14 --iterations 3000
  done
  python3 Benchmarks/peers/linear_sklearn.py "$pack" --loss hinge --alpha 1e-3 --max-iter 10
  python3 Benchmarks/peers/linear_sklearn.py "$pack" --loss log_loss --alpha 1e-3 --max-iter 10
  $bench linear "$pack" --model mlp --hidden 500 --preprocessing channel-standardization --lr 1e-2 --reg 1e-3 --decay 0.9 --epochs 8
  $bench linear "$pack" --features hog-color --model svm --lr 1e-2 --reg 1e-3 --decay 0.9 --epochs 10
  $bench linear "$pack" --features hog-color --model softmax --lr 3e-2 --reg 1e-3 --decay 0.9 --epochs 10
  $bench linear "$pack" --features hog-color --model mlp --hidden 500 --lr 3e-2 --reg 1e-3 --decay 0.9 --epochs 10
  echo "# load: $(uptime | sed 's/.*load average/load average/')"
fi
rm -rf "$work"
