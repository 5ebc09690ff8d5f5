#!/usr/bin/env bash
# Catalog benchmark (100,000 products by default): release build, SQLite, then PostgreSQL
# when COMPTOIR_BENCH_PG_ADMIN (e.g. postgres://postgres@127.0.0.1:5432/postgres) is set.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p comptoir-catalog --bench catalog
if [[ -n "${COMPTOIR_BENCH_PG_ADMIN:-}" ]]; then
  db="comptoir_bench_$$"
  psql "$COMPTOIR_BENCH_PG_ADMIN" -qc "CREATE DATABASE $db"
  trap 'psql "$COMPTOIR_BENCH_PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  COMPTOIR_BENCH_DATABASE_URL="${COMPTOIR_BENCH_PG_ADMIN%/*}/$db" cargo bench -p comptoir-catalog --bench catalog
fi
