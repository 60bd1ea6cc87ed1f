#!/usr/bin/env bash
# `percept serve` under load (issue 16): one-photo latency, 16 clients, and the CLI's batch rate on the same
# photos, for a softmax model and a transfer model (RESULTS.md, "percept serve under load").
#   Benchmarks/serve-load.sh [SECONDS] [CLIENTS] [ROUNDS]   (needs python3 with Pillow; installs wrk with apt-get
#   when it can, and otherwise drives curl alone)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
python3 -c "import PIL" 2>/dev/null || python3 -m pip install -q Pillow
if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || echo "serve-load: wrk could not be installed; measuring with curl only" >&2
fi
swift build -c release --product percept >/dev/null
python3 Benchmarks/peers/serve_load.py .build/release/percept --seconds "${1:-15}" --clients "${2:-16}" --rounds "${3:-5}"
