#!/usr/bin/env bash
# Data-parallel training on MPI (issue 17): airbench94 and softmax throughput as one process with
# one thread, one process with two threads, and `mpirun -np 2` with one thread per rank; per-step
# allreduce and waiting time (the slowest rank's); the gradient sizes of airbench94 and ResNet-20
# and allreduce times at those sizes for the communication model. JSON lines on stdout.
#   Benchmarks/distributed-train.sh [AIRBENCH_STEPS] [IMAGES]
# Needs Open MPI (scripts/bootstrap) and ../shared/datasets (or ~/.cache/percept/cifar10).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
steps=${1:-4}
images=${2:-10240}
source Benchmarks/cifar-pack.sh   # sets $bench and $pack
# Throughput only: the first $images pack images (a pack lists them class by class; accuracy is not measured).
echo "# $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
$bench dp-train --count
mpirun -np 2 --bind-to none $bench collectives --sizes 1000,70000,280000,1000000,2000000 --repeats 10 | grep percept-allreduce
for model in softmax airbench94; do
  $bench dp-train "$pack" --model $model --images "$images" --steps "$steps" --threads 1
  $bench dp-train "$pack" --model $model --images "$images" --steps "$steps" --threads 2
  mpirun -np 2 --bind-to none $bench dp-train "$pack" --model $model --images "$images" --steps "$steps" --threads 1
  mpirun -np 2 --bind-to none $bench dp-train "$pack" --model $model --images "$images" --steps "$steps" --threads 1 --separate-waiting
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
