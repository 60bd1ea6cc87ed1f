#!/usr/bin/env bash
# `percept serve` under load (issue 16): one-photo latency, 16 clients, and the CLI's batch rate on the same
# photos, for a softmax model and a transfer model (RESULTS.md, "percept serve under load").
#   Benchmarks/serve-load.sh [SECONDS] [CLIENTS]      (needs python3 with Pillow)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product percept >/dev/null
python3 Benchmarks/peers/serve_load.py .build/release/percept --seconds "${1:-15}" --clients "${2:-16}"
