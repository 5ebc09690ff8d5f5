#!/usr/bin/env bash
# Courier ranking latency, Rust (benches/ranking.rs, release profile) then the Python
# reference (pymcdm). Prints two CSV tables: size, runs, eligible, p50/p95/mean in µs.
# Low priority so that it does not starve other work on a shared machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
echo "# Rust (comptoir-reco, cargo bench)"
nice -n 10 cargo bench -q -p comptoir-reco --bench ranking
echo
echo "# Python reference (pymcdm)"
python=${COMPTOIR_PYTHON:-$(scripts/py-env.sh)}
nice -n 10 "$python" bench/ranking_reference.py
