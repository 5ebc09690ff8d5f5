#!/usr/bin/env bash
# The test command (README): installs what the tests need, then runs the whole suite on
# SQLite, the integration suite again on PostgreSQL, and the browser test in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-deps.sh
scripts/services.sh
# Python reference implementations (pymcdm, ...) that some tests compare against.
COMPTOIR_PYTHON="$(scripts/py-env.sh)"
export COMPTOIR_PYTHON

pg_admin_url="${COMPTOIR_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if cargo nextest --version >/dev/null 2>&1; then
  run() { cargo nextest run --workspace --no-fail-fast "$@"; }
  integration=(-E 'kind(test)')
  browser() { cargo nextest run -p comptoir --test browser --run-ignored ignored-only; }
else
  run() { cargo test --workspace --no-fail-fast "$@"; }
  integration=(--tests)
  browser() { cargo test -p comptoir --test browser -- --ignored; }
fi

echo "== unit and integration tests on SQLite"
run
echo "== integration tests on PostgreSQL"
COMPTOIR_TEST_DATABASE_URL="$pg_admin_url" run "${integration[@]}"
echo "== browser test (Chromium + chromedriver)"
browser
