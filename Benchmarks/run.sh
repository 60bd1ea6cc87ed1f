#!/usr/bin/env bash
# Side-by-side benchmarks, one run on this machine. Usage: Benchmarks/run.sh [import]
# Needs ../shared/datasets (CIFAR-10 training JPEGs) and Python with numpy + Pillow (installed here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

archive=../shared/datasets/cifar10-train-jpg.tar.gz
data=${PERCEPT_BENCH_DATA:-$HOME/.cache/percept/cifar10}
if [ ! -d "$data/train" ]; then
  [ -f "$archive" ] || { echo "run.sh: $archive not found" >&2; exit 1; }
  mkdir -p "$data" && tar -xzf "$archive" -C "$data"
fi
python3 -c "import numpy, PIL" 2>/dev/null || python3 -m pip install -q numpy pillow
swift build -c release --product percept-bench >/dev/null
bench=.build/release/percept-bench
pack=$(mktemp -d)/cifar10-train.pack

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# python $(python3 -c 'import sys, PIL, numpy; print(sys.version.split()[0], "Pillow", PIL.__version__, "numpy", numpy.__version__)')"
# Warm the page cache so every tool reads the same in-memory files.
find "$data/train" -type f -exec cat {} + > /dev/null
$bench import "$data/train" "$pack"
python3 Benchmarks/peers/pillow_decode.py "$data/train"
python3 Benchmarks/peers/pillow_decode.py "$data/train" --processes "$(nproc)"
rm -f "$pack"
