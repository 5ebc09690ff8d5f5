#!/usr/bin/env bash
# Job queue throughput (SQLite and PostgreSQL, batch 1 vs 10) and the latency the rate
# limiter adds. Release build. Figures go into bench/RESULTS.md by hand, from this output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
cargo bench -p comptoir --bench queue
