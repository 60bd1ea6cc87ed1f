#!/usr/bin/env bash
# Sharded exact k-NN search on MPI (issue 17): CIFAR-10, the last QUERIES images of the pack search
# the others (default 2,000 against 48,000), k = 10, L1 and L2, three ways on this machine:
#   one process, one thread · one process, two threads · mpirun -np 2, one thread per rank.
# Each prints a JSON line (rank 0) with images/s and, for the job, each rank's time searching its
# shard, exchanging the top-k lists (including waiting for the slower rank) and merging them; the
# merged neighbours and distances are compared byte for byte with the single-process ones.
#   Benchmarks/distributed-knn.sh [QUERIES] [REPEATS]
# Needs ../shared/datasets (or ~/.cache/percept/cifar10) and Open MPI (mpirun).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
queries=${1:-2000}
repeats=${2:-3}
source Benchmarks/cifar-pack.sh   # sets $bench and $pack
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Root in a container, shared memory without CMA (see the README's "More than one machine").
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OPENBLAS_NUM_THREADS=1
args=(--queries "$queries" --k 10 --repeats "$repeats")
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(uptime | sed 's/.*load average: //')"
$bench knn-sharded "$pack" "${args[@]}" --threads 1 --write "$work/one"
$bench knn-sharded "$pack" "${args[@]}" --threads 2
mpirun -np 2 $bench knn-sharded "$pack" "${args[@]}" --threads 1 --write "$work/two"
for metric in l1 l2; do
  for kind in i32 f32; do
    cmp -s "$work/one-$metric.$kind" "$work/two-$metric.$kind" \
      && echo "{\"tool\":\"sharded-agreement-$metric-$kind\",\"identical\":true}" \
      || { echo "{\"tool\":\"sharded-agreement-$metric-$kind\",\"identical\":false}"; exit 1; }
  done
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
