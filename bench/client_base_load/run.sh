#!/usr/bin/env bash
# Client base under load: list page, client card and search-as-you-type on PostgreSQL.
#
#   bench/client_base_load/run.sh [N]          # build a fresh database with N clients, then measure
#   SKIP_BUILD=1 bench/client_base_load/run.sh  # measure the database already built
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and wrk (/usr/bin/wrk).
set -euo pipefail

N=${1:-100000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DB=lavka_bench_load
PORT=${PORT:-8790}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}          # per page, before the measured run; WARMUP=0 for none
CONNECTIONS=${CONNECTIONS:-16}
WORKERS=${WORKERS:-2}         # gunicorn processes (sync workers): as `lavka serve` on 2 cores
export LAVKA_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/$DB
export LAVKA_DATA_DIR=${LAVKA_DATA_DIR:-/tmp/lavka-bench-load}
LAVKA="$ROOT/.venv/bin/lavka"
PY="$ROOT/.venv/bin/python"
OUT=${OUT:-$HERE/results}
mkdir -p "$OUT"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
    createdb -h 127.0.0.1 -U postgres "$DB"
    rm -rf "$LAVKA_DATA_DIR" && mkdir -p "$LAVKA_DATA_DIR"
    start=$(date +%s)
    "$LAVKA" migrate
    "$LAVKA" demo --scale "$N" --no-serve
    echo "build: $(( $(date +%s) - start )) s for N=$N" | tee "$OUT/build.txt"
    psql -h 127.0.0.1 -U postgres "$DB" -c "VACUUM ANALYZE" >/dev/null
else
    "$LAVKA" migrate  # migrations added since the build (`lavka serve` refuses to start)
fi
psql -h 127.0.0.1 -U postgres "$DB" -tAc \
    "select 'clients', count(*) from clients_client union all select 'touchpoints', count(*) from clients_touchpoint" \
    | tee "$OUT/sizes.txt"

# Queries per page (Django test client, logged in as the demo manager).
"$PY" "$HERE/queries.py" | tee "$OUT/queries.txt"

# The server, logging each request's own time (lavka/web/timing.py).
LAVKA_SERVER_TIMING=1 "$LAVKA" serve --port "$PORT" --no-worker --workers "$WORKERS" \
    >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/" && break
    sleep 0.5
done

# Log in as the demo manager: csrftoken cookie from GET /login/, then POST the form.
JAR=$(mktemp)
curl -fs -c "$JAR" -b "$JAR" -o /dev/null "http://127.0.0.1:$PORT/login/"
CSRF=$(awk '$6 == "csrftoken" {print $7}' "$JAR")
curl -fs -c "$JAR" -b "$JAR" -o /dev/null \
    -H "Referer: http://127.0.0.1:$PORT/login/" \
    --data-urlencode "csrfmiddlewaretoken=$CSRF" \
    --data-urlencode "username=manager" --data-urlencode "password=lavka-demo-2026" \
    "http://127.0.0.1:$PORT/login/"
SESSION=$(awk '$6 == "sessionid" {print $7}' "$JAR")
[[ -n "$SESSION" ]] || { echo "login failed" >&2; exit 1; }
COOKIE="sessionid=$SESSION; csrftoken=$CSRF"

# Client ids the manager can see (his team's clients), for the card rotation.
IDS=$("$PY" "$HERE/queries.py" --ids 50)
export BENCH_COOKIE="$COOKIE" BENCH_IDS="$IDS"

run() {  # name, lua script, path pattern of its requests in the server log
    echo "== $1" | tee -a "$OUT/wrk.txt"
    if [[ "$WARMUP" != "0" ]]; then
        wrk -t4 -c"$CONNECTIONS" -d"$WARMUP" --timeout 10s -s "$HERE/$2" \
            "http://127.0.0.1:$PORT" >/dev/null
        sleep 0.5
    fi
    local before
    before=$(wc -l <"$OUT/serve.log")
    wrk -t4 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$HERE/$2" \
        "http://127.0.0.1:$PORT" | tee -a "$OUT/wrk.txt"
    sleep 0.5  # the last log lines of the workers
    tail -n +"$((before + 1))" "$OUT/serve.log" | grep -E "server-timing GET $3" \
        | "$PY" "$HERE/server_timing.py" | tee -a "$OUT/wrk.txt"
}
: >"$OUT/wrk.txt"
echo "workers $WORKERS, connections $CONNECTIONS, $DURATION per page after $WARMUP warm-up" \
    | tee -a "$OUT/wrk.txt"
run "client list /clients/" list.lua "/clients/ "
run "client card /clients/<id>/" card.lua "/clients/[0-9]+/ "
run "search as you type /search/?q=..." search.lua "/search/"
