#!/usr/bin/env bash
# `make bench`: every benchmark against the DESIGN.md §7 budgets, on a local PostgreSQL.
#   BENCH_PATIENTS (default 100000; `make bench-full` uses 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${BENCH_PATIENTS:-100000}"
DB="careline_bench_${PATIENTS}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB}" DEBUG=false CARELINE_ENV=development
PY=.venv/bin/python

pg_isready -q -h 127.0.0.1 -p 5432 || \
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='${DB}'" | grep -q 1; then
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE ${DB}"
fi
$PY -m careline.config.manage migrate -v0

echo "== registry: search and 360 view (${PATIENTS} patients)"
(cd bench && ../$PY bench_registry.py --patients "${PATIENTS}")
echo "== ingest: Synthea test data through the importer (a fresh scratch database)"
INGEST_DB=careline_bench_ingest
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${INGEST_DB} WITH (FORCE)" \
  -c "CREATE DATABASE ${INGEST_DB}"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/${INGEST_DB}" $PY -m careline.config.manage migrate -v0
DATABASE_URL="postgres://postgres@127.0.0.1:5432/${INGEST_DB}" $PY bench/bench_ingest.py || true

echo "== API: GET /api/patients/{id} under gunicorn"
$PY bench/bench_api.py
