#!/usr/bin/env bash
# Run the whole suite on SQLite, then on PostgreSQL when one is configured or answers locally.
# Browser tests are part of the suite; they fail (never skip) when Chromium is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PG_URL_DEFAULT="postgresql+psycopg://postgres@127.0.0.1:5432/resettle_test"
ran=()
status=0

run_suite() {
  local label=$1; shift
  echo
  echo "=== tests on ${label} ==="
  local start=$SECONDS
  env "$@" "$PY" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} tests
  local rc=$?
  echo "=== ${label}: exit ${rc}, $((SECONDS - start)) s ==="
  ran+=("${label} (exit ${rc}, $((SECONDS - start)) s)")
  [ $rc -ne 0 ] && status=1
}

run_suite "SQLite" -u TEST_DATABASE_URL

pg_url=${TEST_DATABASE_URL:-}
if [ -z "$pg_url" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_url=$PG_URL_DEFAULT
fi
if [ -n "$pg_url" ]; then
  run_suite "PostgreSQL" TEST_DATABASE_URL="$pg_url"
else
  echo "=== PostgreSQL: no TEST_DATABASE_URL and nothing answers on 127.0.0.1:5432; not run ==="
fi

echo
echo "databases run: ${ran[*]}"
exit $status
