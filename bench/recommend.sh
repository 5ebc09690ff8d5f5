#!/usr/bin/env bash
# Recommendation latency on the demo catalog, cache miss and cache hit (p50/p95), release
# profile, SQLite. With the embedding model when it is in COMPTOIR_MODEL_DIR (default
# <workspace>/.cache/models, where the tests pull it), else the hashing fallback.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export COMPTOIR_MODEL_DIR=${COMPTOIR_MODEL_DIR:-$root/.cache/models}
nice -n 10 cargo bench -q -p comptoir --bench recommend
