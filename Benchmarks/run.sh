#!/usr/bin/env bash
# Side-by-side benchmarks, one run on this machine.
# Usage: Benchmarks/run.sh [import|knn|ivf|scaling]  (no argument: all)
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
case "$mode" in import|knn|ivf|scaling|all) ;; *) echo "usage: Benchmarks/run.sh [import|knn|ivf|scaling]" >&2; exit 1 ;; esac
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
rm -rf "$work"
