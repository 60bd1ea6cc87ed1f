# Sourced by the CIFAR-10 benchmark scripts (cnn-train.sh, distributed-knn.sh, distributed-train.sh):
# builds percept-bench in release and sets $bench, and $pack to the CIFAR-10 training images as a pack,
# made once from ../shared's JPEG tarball (PERCEPT_BENCH_DATA and PERCEPT_BENCH_PACK move them).
data=${PERCEPT_BENCH_DATA:-$HOME/.cache/percept/cifar10}
if [ ! -d "$data/train" ]; then mkdir -p "$data" && tar -xzf ../shared/datasets/cifar10-train-jpg.tar.gz -C "$data"; fi
swift build -c release --product percept-bench >/dev/null
bench=.build/release/percept-bench
pack=${PERCEPT_BENCH_PACK:-/tmp/cifar10-train.pack}
[ -f "$pack" ] || $bench import "$data/train" "$pack" >/dev/null
