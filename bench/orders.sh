#!/usr/bin/env bash
# Order pipeline on loopback, SQLite then PostgreSQL (release build unless PROFILE=dev):
#  1. intake: wrk posts orders for $DURATION with $CONNS connections → accepted (202)
#     orders/s and p50/p95/p99 (workers off, so only intake is measured);
#  2. end to end: a `comptoir worker` then processes what was queued (validation,
#     reservation, confirmation) with batch size 1, then (after a second intake run) 10 →
#     processed orders/s.
# Figures go into bench/RESULTS.md by hand, from this output.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
scripts/services.sh
# PROFILE=dev measures the debug build (when a release build does not fit).
# BIN=path skips the build and measures that binary.
PROFILE=${PROFILE:-release}
if [ -z "${BIN:-}" ]; then
  cargo build --profile "$PROFILE" -p comptoir
  dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
  BIN="${CARGO_TARGET_DIR:-target}/$dir/comptoir"
fi
DURATION=${DURATION:-20s}
CONNS=${CONNS:-32}
PORT=${PORT:-18080}
BASE="http://127.0.0.1:$PORT"
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
api() { # method path [body]
  curl -sf -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
pending() { api GET /api/v1/orders/counts | json 'd["received"]+d["validated"]+d["stock_reserved"]'; }

run_engine() {
  local engine=$1 url=$2
  echo "== $engine"
  export COMPTOIR_DATA_DIR="$work/$engine" COMPTOIR_DATABASE_URL="$url" COMPTOIR_LOG=warn \
    COMPTOIR_RATE_LIMITS__ENABLED=false COMPTOIR_JOBS__WORKERS_IN_SERVE=false \
    COMPTOIR_MODELS__PULL_ON_START=false COMPTOIR_ORDERS__CACHE_TTL_SECS=0 \
    COMPTOIR_PASSWORD=bench-password-123
  "$BIN" serve --listen "127.0.0.1:$PORT" --init-owner bench@example.com >/dev/null &
  server=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/api/v1/health/live" >/dev/null && break; sleep 0.2; done
  TOKEN=$(curl -sf "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' | json 'd["access_token"]')
  export TOKEN
  local loc
  loc=$(api POST /api/v1/catalog/locations '{"code":"WH","name":"Warehouse","kind":"warehouse"}' | json 'd["id"]')
  for i in $(seq 0 19); do
    local p
    p=$(api POST /api/v1/catalog/products "{\"sku\":\"B$i\",\"name\":\"B$i\",\"sale_price\":\"10\",\"status\":\"active\"}" | json 'd["id"]')
    api POST /api/v1/catalog/stock/adjustments "{\"product_id\":\"$p\",\"location_id\":\"$loc\",\"kind\":\"receipt\",\"quantity\":100000000}" >/dev/null
  done
  for batch in 1 10; do
    echo "-- intake ($CONNS connections, $DURATION)"
    wrk -t2 -c"$CONNS" -d"$DURATION" -s bench/orders_post.lua "$BASE/api/v1/orders" | sed -n '/^requests/,$p'
    local queued start end
    queued=$(pending)
    start=$(date +%s.%N)
    COMPTOIR_JOBS__BATCH_SIZE=$batch COMPTOIR_ORDERS__BATCH_SIZE=$batch "$BIN" worker >/dev/null 2>&1 &
    local worker=$!
    while [ "$(pending)" -gt 0 ]; do sleep 0.2; done
    end=$(date +%s.%N)
    kill "$worker"; wait "$worker" 2>/dev/null || true
    python3 -c "q=$queued; s=$end-$start; print(f'-- end to end, batch $batch: {q} orders in {s:.1f} s = {q/s:.0f} orders/s')"
  done
  api GET /api/v1/orders/counts | json 'd'
  kill "$server"; wait "$server" 2>/dev/null || true
  server=""
}

# ENGINES="postgres" measures one engine only.
for engine in ${ENGINES:-sqlite postgres}; do
  case $engine in
    sqlite) run_engine sqlite "sqlite://$work/sqlite/comptoir.db" ;;
    postgres)
      psql -q -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS comptoir_bench' -c 'CREATE DATABASE comptoir_bench'
      run_engine postgres "postgres://postgres@127.0.0.1:5432/comptoir_bench" ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done
