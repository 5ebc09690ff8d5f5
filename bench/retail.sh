#!/usr/bin/env bash
# Retail benchmark on a synthetic chain of $LINES sale lines (default 10 million; 4 regions,
# 24 stores, 4,000 products, 2024-2025; bench/retail.py gen), SQLite then PostgreSQL
# (release build unless BIN=path):
#  1. import: the 24 monthly files through `comptoir retail import` (validation, receipts,
#     lines and rollups in the import's transactions) → rows/second;
#  2. dashboard: GET /api/v1/retail/dashboard for 2025 at org, region and store level,
#     $RUNS times each on one kept-alive connection → p50/p95, and its figures checked
#     against DuckDB's, to the cent;
#  3. DuckDB (PyPI duckdb, in-memory table loaded from the raw lines' parquet) computing the
#     same figures from the raw lines, $DUCK_RUNS times per scope → p50/p95.
# Figures go into bench/RESULTS.md by hand, from this output. DATA=dir keeps the generated
# files between runs; ENGINES="postgres" measures one engine only.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
PY="$(scripts/py-env.sh)"
PROFILE=${PROFILE:-release}
if [ -z "${BIN:-}" ]; then
  cargo build --profile "$PROFILE" -p comptoir
  dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
  BIN="${CARGO_TARGET_DIR:-target}/$dir/comptoir"
fi
LINES=${LINES:-10000000}
RUNS=${RUNS:-200}
DUCK_RUNS=${DUCK_RUNS:-20}
PORT=${PORT:-18081}
BASE="http://127.0.0.1:$PORT"
work=$(mktemp -d)
DATA=${DATA:-$work/data}
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
api() { # method path [body]
  curl -sf -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}

if [ ! -f "$DATA/lines.parquet" ]; then
  echo "== generating $LINES sale lines in $DATA"
  "$PY" bench/retail.py gen "$DATA" --lines "$LINES"
fi
lines=$(( $(cat "$DATA"/sales-*.csv | wc -l) - $(ls "$DATA"/sales-*.csv | wc -l) ))
echo "$lines sale lines in $(ls "$DATA"/sales-*.csv | wc -l) files"

login() {
  TOKEN=$(curl -sf "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' | json 'd["access_token"]')
  export TOKEN
}

run_engine() {
  local engine=$1 url=$2
  echo "== $engine"
  export COMPTOIR_DATA_DIR="$work/$engine" COMPTOIR_DATABASE_URL="$url" COMPTOIR_LOG=warn \
    COMPTOIR_RATE_LIMITS__ENABLED=false COMPTOIR_JOBS__WORKERS_IN_SERVE=false \
    COMPTOIR_MODELS__PULL_ON_START=false COMPTOIR_PASSWORD=bench-password-123
  "$BIN" migrate >/dev/null
  "$BIN" orgs create Bench --slug bench >/dev/null
  "$BIN" users add --org bench --email bench@example.com --role owner >/dev/null
  "$BIN" catalog import "$DATA/catalog.csv" --org bench --create-categories 2>/dev/null | tail -1
  "$BIN" serve --listen "127.0.0.1:$PORT" >/dev/null &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/api/v1/health/live" >/dev/null && break; sleep 0.2; done
  login
  declare -A regions=()
  local first_store="" first_region="" code region rid sid
  while IFS=, read -r code region; do
    [ "$code" = code ] && continue
    if [ -z "${regions[$region]:-}" ]; then
      regions[$region]=$(api POST /api/v1/retail/regions "{\"code\":\"$region\",\"name\":\"$region\"}" | json 'd["id"]')
    fi
    rid=${regions[$region]}
    sid=$(api POST /api/v1/retail/stores "{\"region_id\":\"$rid\",\"code\":\"$code\",\"name\":\"Magasin $code\"}" | json 'd["id"]')
    api PUT "/api/v1/retail/stores/$sid/targets" \
      '[{"year":2024,"revenue":"1500000"},{"year":2025,"revenue":"1600000"}]' >/dev/null
    if [ -z "$first_store" ]; then
      first_store=$code
      printf '{"region_code":"%s","region_id":"%s","store_code":"%s","store_id":"%s"}' \
        "$region" "$rid" "$code" "$sid" > "$work/stores-$engine.json"
    fi
  done < <(tr -d '\r' < "$DATA/stores.csv")
  echo "-- import"
  local start end f t0 t1
  start=$(date +%s.%N)
  for f in "$DATA"/sales-*.csv; do
    t0=$(date +%s.%N)
    "$BIN" retail import "$f" --org bench --policy all_or_nothing >"$work/import.out" 2>/dev/null
    t1=$(date +%s.%N)
    grep -q "completed" "$work/import.out" || { cat "$work/import.out"; exit 1; }
    python3 -c "import sys; n=$(( $(wc -l <"$f") - 1 )); s=$t1-$t0; print(f'   $(basename "$f"): {n} rows in {s:.1f} s = {n/s:,.0f} rows/s')"
  done
  end=$(date +%s.%N)
  python3 -c "n=$lines; s=$end-$start; print(f'-- import total: {n:,} rows in {s:.0f} s = {n/s:,.0f} rows/s')"
  if [ "$engine" = sqlite ]; then du -sh "$work/sqlite"; fi
  echo "-- dashboard (2025; $RUNS requests per scope)"
  login # the import outlasts an access token
  "$PY" bench/retail.py dashboard "$BASE" "$TOKEN" --stores-json "$work/stores-$engine.json" \
    --reference "$work/duckdb.json" --runs "$RUNS"
  kill "$server"; wait "$server" 2>/dev/null || true
  server=""
}

echo "== DuckDB $("$PY" -c 'import duckdb; print(duckdb.__version__)') on the raw lines"
# The scope ids only matter to the dashboard; DuckDB filters by code.
IFS=, read -r code region < <(sed -n 2p "$DATA/stores.csv" | tr -d '\r')
printf '{"region_code":"%s","region_id":"","store_code":"%s","store_id":""}' "$region" "$code" > "$work/codes.json"
"$PY" bench/retail.py duckdb "$DATA" --stores-json "$work/codes.json" --runs "$DUCK_RUNS" > "$work/duckdb.json"
"$PY" -c "
import json; d = json.load(open('$work/duckdb.json'))
print(f'   loaded {d[\"rows\"]:,} lines in {d[\"load_s\"]:.1f} s')
for s in ('org', 'region', 'store'):
    print(f'   {s}: p50 {d[s][\"p50_ms\"]:.1f} ms, p95 {d[s][\"p95_ms\"]:.1f} ms')"

for engine in ${ENGINES:-sqlite postgres}; do
  case $engine in
    sqlite) run_engine sqlite "sqlite://$work/sqlite/comptoir.db" ;;
    postgres)
      psql -q -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS comptoir_bench_retail' -c 'CREATE DATABASE comptoir_bench_retail'
      run_engine postgres "postgres://postgres@127.0.0.1:5432/comptoir_bench_retail" ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done
