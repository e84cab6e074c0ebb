#!/usr/bin/env bash
# Fuzz the REST API with schemathesis: a real server on a fresh database, the demo city
# (few cases), one run with a center admin's token and one with a grid worker's.
# Fails on any 5xx (not_a_server_error) or any answer the OpenAPI does not declare
# (response_schema_conformance).
#
#   .ci/schemathesis.sh                      # SQLite in a temporary data dir
#   .ci/schemathesis.sh postgresql://postgres@127.0.0.1:5432/wangge_x   # a fresh PG database
#
# Environment: ST_EXAMPLES (default 10 per operation), ST_SEED (default 1), ST_CASES (demo
# cases, default 300), ST_PHASES (default examples,coverage,fuzzing), ST_FIELDWORK_DAYS (days
# of demo fieldwork, default 14),
# ST_KEEP=1 keeps the data dir (server log, schemathesis reports) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.venv/bin"
DB_URL="${1:-}"
# 10 random examples per operation in the fuzzing phase, not 20: the coverage phase already
# sends every operation its boundary and invalid values; what is given up is 10 of the 20
# random draws (with the seed fixed, the same ones each run). 35 s less per role on an idle
# machine (fuzzing 62 s → 26 s as admin, 51 s → 20 s as worker, 2,620 → 1,340 requests).
EXAMPLES="${ST_EXAMPLES:-10}"
SEED="${ST_SEED:-1}"
CASES="${ST_CASES:-300}"
PHASES="${ST_PHASES:-examples,coverage,fuzzing}"
FIELDWORK_DAYS="${ST_FIELDWORK_DAYS:-14}"

DATA_DIR="$(mktemp -d /tmp/wangge-st.XXXXXX)"
PORT="$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

# A clean environment: only what this run sets.
for var in $(env | grep -o '^\(WANGGE\|DJANGO\)_[A-Z_]*' || true); do unset "$var"; done
export WANGGE_DATA_DIR="$DATA_DIR"
export WANGGE_PUBLIC_URL="http://127.0.0.1:$PORT"

PG_ADMIN=""
if [[ -n "$DB_URL" ]]; then
  PG_ADMIN="${DB_URL%/*}/postgres"
  DB_NAME="${DB_URL##*/}"
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)"
  psql "$PG_ADMIN" -qc "CREATE DATABASE \"$DB_NAME\""
  export WANGGE_DATABASE_URL="$DB_URL"
fi

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$PG_ADMIN" ]]; then
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" || true
  fi
  if [[ "${ST_KEEP:-0}" != 1 ]]; then rm -rf "$DATA_DIR"; else echo "kept $DATA_DIR"; fi
}
trap cleanup EXIT

echo "== schemathesis: ${DB_URL:-SQLite} =="
"$BIN/wangge" setup >/dev/null
# two weeks of fieldwork, not the demo's 400 days: the same kinds of records for the fuzzer
# to reach without 700,000 rows (a load takes 5 s instead of 11 s on an idle machine); the
# loader's progress bars go to a file (printed if the load fails), not into CI's log
"$BIN/wangge" demo load --cases "$CASES" --residents 2000 --fieldwork-days "$FIELDWORK_DAYS" \
  >/dev/null 2>"$DATA_DIR/demo-load.log" || { tr '\r' '\n' <"$DATA_DIR/demo-load.log" | tail -40; exit 1; }
ADMIN_TOKEN="$("$BIN/wangge" tokens create --user center_admin | tail -n 1)"
WORKER_TOKEN="$("$BIN/wangge" tokens create --user gridworker | tail -n 1)"

"$BIN/wangge" serve --port "$PORT" --workers 2 >"$DATA_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$DATA_DIR/server.log"; exit 1; fi
  sleep 0.5
done

status=0
ROOT="$PWD"
cd "$DATA_DIR"  # schemathesis keeps its cache in the working directory
for role in admin worker; do
  if [[ $role == admin ]]; then token="$ADMIN_TOKEN"; else token="$WORKER_TOKEN"; fi
  echo "-- as $role --"
  # real case numbers, grid codes and record ids in this role's scope, so that the fuzzer
  # reaches the actions behind them instead of stopping at 404
  "$BIN/python" - "$PORT" "$token" >"$DATA_DIR/st-$role.toml" <<'PY'
import json
import sys
import urllib.request

port, token = sys.argv[1:3]


def get(path: str) -> list:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)


found = {
    "cases": [c["register_no"] for c in get("/cases/?limit=40")],
    "grids": [g["code"] for g in get("/grids/?level=4")][:20],
    "ids": [str(r["id"]) for r in get("/registry/residents?limit=20")],
}
for name, values in found.items():
    print(f"[dictionaries.{name}]\nvalues = {json.dumps(values or ['none'])}\n")
print("[parameters]")
print('"path.register_no" = { dictionary = "cases", probability = 0.7 }')
print('"body.master" = { dictionary = "cases", probability = 0.5 }')
print('"path.code" = { dictionary = "grids", probability = 0.7 }')
print('"query.grid" = { dictionary = "grids", probability = 0.5 }')
print('"path.pk" = { dictionary = "ids", probability = 0.5 }')
PY
  before=$(grep -c '" 5[0-9][0-9] ' "$DATA_DIR/server.log" || true)
  "$BIN/python" "$ROOT/.ci/st.py" --config-file "$DATA_DIR/st-$role.toml" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    -H "Authorization: Bearer $token" \
    -c not_a_server_error,response_schema_conformance \
    -n "$EXAMPLES" --seed "$SEED" --no-shrink --workers 2 \
    --phases "$PHASES" \
    --suppress-health-check all \
    --report junit --report-dir "$DATA_DIR/report-$role" \
    --continue-on-failure --output-truncate true || status=1
  after=$(grep -c '" 5[0-9][0-9] ' "$DATA_DIR/server.log" || true)
  echo "5xx answers as $role: $((after - before))"
done

if grep -q "Traceback" "$DATA_DIR/server.log"; then
  echo "server log holds tracebacks:"
  grep -B2 -A25 "Traceback" "$DATA_DIR/server.log" | head -200
  status=1
fi
cd "$ROOT"
exit $status
