#!/usr/bin/env bash
# `make bench`: every benchmark against the DESIGN.md §7 budgets, on a local PostgreSQL.
#   BENCH_PATIENTS (default 100000; `make bench-full` uses 1000000)
#   BENCH_API_SECONDS (default 10): seconds per row of the API benchmark (wrk drives it;
#     `apt-get install wrk` is tried when it is missing, else the Python client is used and
#     BENCH_API_REQUESTS, default 20000, is the number of requests per row)
#   BENCH_MESSAGES (default 20000): emails the messaging benchmark dispatches
#   BENCH_DATABASE_PREFIX (default careline_bench): the databases are PREFIX_<patients>
#     (kept between runs: loading is slow) and PREFIX_ingest (recreated every run)
# Each script prints one "verdict:" line per budget (met / not met / could not run); this
# script repeats them at the end and exits non-zero unless every budget was judged and met.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS="${BENCH_PATIENTS:-100000}"
PREFIX="${BENCH_DATABASE_PREFIX:-careline_bench}"
DB="${PREFIX}_${PATIENTS}"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DB}" DEBUG=false CARELINE_ENV=development
export PYTHONUNBUFFERED=1  # the output goes through tee
PY=.venv/bin/python
LOGS="$(mktemp -d)"
trap 'rm -rf "${LOGS}"' EXIT

pg_isready -q -h 127.0.0.1 -p 5432 || \
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='${DB}'" | grep -q 1; then
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE ${DB}"
fi
$PY -m careline.config.manage migrate -v0

# run_benchmark NAME COMMAND…: run it, keep its output, remember how it ended.
declare -A STATUS
run_benchmark() {
  local name=$1 status=0
  shift
  "$@" 2>&1 | tee "${LOGS}/${name}.log" || status=$?
  STATUS[${name}]=${status}
}

echo "== registry: search and 360 view (${PATIENTS} patients)"
run_benchmark registry bash -c "cd bench && ../$PY bench_registry.py --patients ${PATIENTS}"
echo "== ingest: Synthea test data through the importer (a fresh scratch database)"
INGEST_DB="${PREFIX}_ingest"
psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS ${INGEST_DB} WITH (FORCE)" \
  -c "CREATE DATABASE ${INGEST_DB}"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/${INGEST_DB}" $PY -m careline.config.manage migrate -v0
DATABASE_URL="postgres://postgres@127.0.0.1:5432/${INGEST_DB}" run_benchmark ingest $PY bench/bench_ingest.py

echo "== scheduling: slot search across 200 providers x 90 days, booking under 8 clients"
run_benchmark scheduling bash -c "cd bench && ../$PY bench_scheduling.py"

echo "== messaging: outbox dispatch to a local SMTP sink (2 processes), a reminder batch, SMS leave time"
run_benchmark messaging $PY bench/bench_messaging.py --messages "${BENCH_MESSAGES:-20000}" \
  --patients "$(( PATIENTS < 100000 ? PATIENTS : 100000 ))"

echo "== API: GET /api/patients/{id} under gunicorn"
if ! command -v wrk >/dev/null; then
  echo "installing wrk (the API benchmark's load generator)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 ||
    echo "wrk could not be installed: the API benchmark drives gunicorn from Python instead"
fi
run_benchmark api $PY bench/bench_api.py --seconds "${BENCH_API_SECONDS:-10}" \
  --requests "${BENCH_API_REQUESTS:-20000}"

echo
echo "== verdicts (DESIGN.md §7; ${PATIENTS} patients; load average $(cut -d' ' -f1-3 /proc/loadavg))"
failed=0
for name in registry ingest scheduling messaging api; do
  log="${LOGS}/${name}.log"
  sed -n 's/^verdict: //p' "${log}"
  if [ "${STATUS[${name}]}" -ne 0 ] && ! grep -qE '^verdict: (not met|could not run)' "${log}"; then
    printf 'could not run | %-8s | the budgets it did not judge | exited %s: %s\n' \
      "${name}" "${STATUS[${name}]}" "$(grep -v '^verdict: ' "${log}" | tail -n 1)"
  fi
  if [ "${STATUS[${name}]}" -ne 0 ] || ! grep -q '^verdict: ' "${log}"; then
    failed=1
  fi
done
if [ "${failed}" -ne 0 ]; then
  echo "make bench: FAILED (a budget was missed or a benchmark could not run)"
  exit 1
fi
echo "make bench: every budget met"
