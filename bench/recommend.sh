#!/usr/bin/env bash
# Recommendation latency on the demo catalog over HTTP (release build unless PROFILE=dev),
# SQLite: a `comptoir serve` with the demo catalog indexed (`comptoir reco reindex`), then
# POST /api/v1/recommendations 200 times with a new comment each time (cache miss: the
# comment's sentiment and embedding, the candidates, the scores) and 200 times the same
# request (cache hit), p50/p95 measured by the client on loopback. Uses the embedding model
# when COMPTOIR_MODEL_DIR holds it (default <workspace>/.cache/models, where the tests pull
# it), else the hashing fallback; says which.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export COMPTOIR_MODEL_DIR=${COMPTOIR_MODEL_DIR:-$root/.cache/models}
PROFILE=${PROFILE:-release}
if [ -z "${BIN:-}" ]; then
  cargo build --profile "$PROFILE" -p comptoir
  dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
  BIN="${CARGO_TARGET_DIR:-target}/$dir/comptoir"
fi
PORT=${PORT:-18081}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export COMPTOIR_DATA_DIR="$work" COMPTOIR_DATABASE_URL="sqlite://$work/comptoir.db" \
  COMPTOIR_LOG=warn COMPTOIR_RATE_LIMITS__ENABLED=false COMPTOIR_MODELS__PULL_ON_START=false \
  COMPTOIR_PASSWORD=bench-password-123
"$BIN" migrate >/dev/null
"$BIN" orgs create Bench --slug bench >/dev/null
"$BIN" users add --org bench --email bench@example.com --role owner >/dev/null
"$BIN" models list | sed 's/^/model: /'   # absent: the hashing fallback answers
"$BIN" demo --org bench | head -1
"$BIN" reco reindex --org bench 2>&1 | tail -1
"$BIN" serve --listen "127.0.0.1:$PORT" >/dev/null &
server=$!
python3 - "$PORT" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/api/v1/health/live"); break
    except OSError:
        time.sleep(0.2)
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
token = call("POST", "/api/v1/auth/login", {"email": "bench@example.com", "password": "bench-password-123"})["access_token"]
product = call("GET", "/api/v1/catalog/products?q=SUV&limit=1", token=token)["items"][0]["id"]
comments = ["Excellent véhicule, très confortable et fiable", "Great car for a family, lots of room",
            "Trop cher pour ce que c'est", "Silent and smooth on the motorway"]
def timed(comment):
    t = time.perf_counter()
    r = call("POST", "/api/v1/recommendations", {"product_id": product, "commentaire": comment, "top_k": 10}, token)
    ms = (time.perf_counter() - t) * 1e3
    assert r["status"] == "success" and r["recommendations"], r
    return ms
RUNS = 200
miss = [timed(f"{comments[i % 4]} ({i})") for i in range(RUNS)]
timed(comments[0])
hit = [timed(comments[0]) for _ in range(RUNS)]
def pct(v, p):
    v = sorted(v); return v[round((len(v) - 1) * p)]
print("| case | runs | p50 (ms) | p95 (ms) |\n|---|---|---|---|")
for name, v in [("cache miss", miss), ("cache hit", hit)]:
    print(f"| {name} | {RUNS} | {pct(v, 0.5):.2f} | {pct(v, 0.95):.2f} |")
PY
