#!/usr/bin/env bash
# HTTP writes on the embedded default: the company data registry's
# `POST /company/data/language` against the hand-written axum + sqlx
# handler of bench/raw-registry-write doing the same insert, on SQLite and
# on PostgreSQL, with an A/A pair (the raw handler twice) to show the noise.
#
#   bench/writes-compare.sh            # REPS=3 DUR=8 ENGINES="sqlite postgres"
#
# Every measurement starts its server afresh on a fresh database (SQLite: a
# temporary directory for every file the server writes; PostgreSQL: a
# database bench_<n> created and dropped here), pinned to CPU 0, and loads
# it from CPU 1 with a WARM s warm-up and DUR s of `wrk -t1 -cCONN
# --latency`; the contenders' order rotates (and reverses every other rep).
# `registry` is the registry as shipped (the embedded default: its outbox
# relay, the SQLite broker, the audit service and the importer in the same
# process, INFO logs), after registering the `language` schema over HTTP;
# `registry-inproc` is the same with BROKER_URL=in-process;
# `registry-tx` the registry with its SQLite database on a transaction per
# call (`?group_commit=0`, the default before 2026-12-07; on PostgreSQL it is
# `registry`), and `registry-group` with `?group_commit=64` (the default
# since, the same as `registry`: an A/A pair). For the
# registry on SQLite, `backlog` is the outbox's unpublished events right
# after the load (the relay keeping up, or not). CPU is the
# server process's only (PostgreSQL's backends are not counted).
# Prints one line per measurement, then the medians with min–max and the
# ratios to `raw`.
#
# Needs the release binaries in $BIN_DIR (default /tmp/bench-measure/target/release):
#   CARGO_TARGET_DIR=/tmp/bench-measure/target cargo build --release --locked -p company-data-registry
#   (cd bench/raw-registry-write && CARGO_TARGET_DIR=/tmp/bench-measure/target cargo build --release --locked)
set -u
here=$(cd "$(dirname "$0")" && pwd)
BIN_DIR=${BIN_DIR:-/tmp/bench-measure/target/release}
REPS=${REPS:-3}
DUR=${DUR:-8}
WARM=${WARM:-2}
CONN=${CONN:-32}
ENGINES=${ENGINES:-sqlite postgres}
CONTENDERS=${CONTENDERS:-raw registry raw-again registry-inproc}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
SCHEMA_FILE=$here/../examples/company-data-registry/tests/language.schema.json
LUA=$here/writes-post.lua
PORT=18401
work=$(mktemp -d "${TMPDIR:-/tmp}/writes-compare.XXXXXX")
results=$work/results.txt
echo "# results and server logs in $work"

pid=
# A measurement that fails stops the script: its server goes with it.
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' EXIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
psql_admin() { psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "$1" >/dev/null; }

# Starts contender $1 on engine $2 with its files in $3 and database $4;
# sets $pid.
start() {
  local name=$1 engine=$2 dir=$3 db=$4
  case $name in
    raw*)
      DATABASE_URL=$db PORT=$PORT SCHEMA_FILE=$SCHEMA_FILE \
        taskset -c 0 "$BIN_DIR/raw-registry-write" >"$dir/log" 2>&1 &
      pid=$! ;;
    registry*)
      # registry-inproc: the in-process broker instead of the SQLite one,
      # to show what the durable broker's writes cost the same process.
      local broker="sqlite://$dir/broker.db"
      [ "$name" = registry-inproc ] && broker=in-process
      [ "$name" = registry-group ] && [ "$engine" = sqlite ] && db="$db?group_commit=64"
      [ "$name" = registry-tx ] && [ "$engine" = sqlite ] && db="$db?group_commit=0"
      RUST_LOG=info PORT=$PORT AUDIT_PORT=$((PORT + 1)) IMPORTER_PORT=$((PORT + 2)) \
        DATABASE_URL=$db AUDIT_DATABASE_URL="sqlite://$dir/audit.db" \
        BROKER_URL=$broker \
        taskset -c 0 "$BIN_DIR/company-data-registry" >"$dir/log" 2>&1 &
      pid=$! ;;
    *) echo "unknown contender $name" >&2; exit 2 ;;
  esac
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/health/live" && break
    sleep 0.1
  done
  case $name in
    registry*)
      curl -fsS -o /dev/null --json "{\"schema_keyname\": \"language\", \"schema_name\": \"Language\",
        \"schema_description\": \"Language schema\", \"current_schema_definition\": $(cat "$SCHEMA_FILE")}" \
        "http://127.0.0.1:$PORT/schemas" || { echo "$name: schema registration failed" >&2; exit 1; } ;;
  esac
  local status
  status=$(curl -s -o "$dir/first-answer" -w '%{http_code}' --data-binary \
    '{"code": "es", "name": "español", "emoji": "🇪🇸", "translations": {"en": "Spanish"}}' \
    -H 'content-type: application/json' "http://127.0.0.1:$PORT/company/data/language")
  if [ "$status" != 201 ]; then
    echo "$name on $engine answered $status: $(cat "$dir/first-answer"); log in $dir/log" >&2
    exit 1
  fi
}

stop() {
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=
}

n=0
for rep in $(seq "$REPS"); do
  for engine in $ENGINES; do
    read -r -a order <<<"$CONTENDERS"
    count=${#order[@]}
    echo "# rep $rep $engine, $(uptime | sed 's/.*load/load/')"
    for k in $(seq 0 $((count - 1))); do
      j=$(((k + rep) % count))
      if [ $((rep % 2)) = 0 ]; then j=$((count - 1 - j)); fi
      name=${order[$j]}
      n=$((n + 1))
      dir=$work/$n-$engine-$name
      mkdir -p "$dir"
      if [ "$engine" = sqlite ]; then
        db="sqlite://$dir/data.db"
      else
        psql_admin "DROP DATABASE IF EXISTS bench_$n WITH (FORCE)"
        psql_admin "CREATE DATABASE bench_$n"
        db="$PG/bench_$n"
      fi
      start "$name" "$engine" "$dir" "$db"
      url=http://127.0.0.1:$PORT/company/data/language
      taskset -c 1 wrk -t1 -c"$CONN" -d"${WARM}s" -s "$LUA" "$url" >/dev/null
      c0=$(cpu "$pid")
      out=$(taskset -c 1 wrk -t1 -c"$CONN" -d"${DUR}s" --latency -s "$LUA" "$url")
      c1=$(cpu "$pid")
      backlog=-
      case $engine-$name in
        sqlite-registry*) backlog=$(sqlite3 "file:$dir/data.db?mode=ro" \
          "SELECT COUNT(*) FROM bisslog_outbox WHERE published_at_ms IS NULL" 2>/dev/null || echo -) ;;
      esac
      stop
      if [ "$engine" = postgres ]; then psql_admin "DROP DATABASE IF EXISTS bench_$n WITH (FORCE)"; fi
      echo "$out" >"$dir/wrk.txt"
      line=$(echo "$out" | sed -n 's/^WRKJSON //p')
      python3 - "$rep" "$engine" "$name" "$c0" "$c1" "$line" "$backlog" <<'PY' | tee -a "$results"
import json, sys
rep, engine, name, c0, c1, line, backlog = sys.argv[1:]
w = json.loads(line)
secs = w["duration_us"] / 1e6
errors = w["err_connect"] + w["err_read"] + w["err_write"] + w["err_status"] + w["err_timeout"]
print(f"rep={rep} engine={engine} side={name} rps={w['requests'] / secs:.0f} "
      f"cpu_us_per_req={(int(c1) - int(c0)) * 10000 / max(w['requests'], 1):.1f} "
      f"p99_ms={w['lat_p99_us'] / 1000:.2f} errors={errors} backlog={backlog}")
PY
    done
  done
done

python3 - "$results" "$CONTENDERS" <<'PY'
import statistics, sys
from collections import defaultdict
path, contenders = sys.argv[1], sys.argv[2].split()
rows = defaultdict(lambda: defaultdict(list))
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split())
    for key in ("rps", "cpu_us_per_req", "p99_ms"):
        rows[(f["engine"], f["side"])][key].append(float(f[key]))
    rows[(f["engine"], f["side"])]["errors"].append(int(f["errors"]))
print()
print("| engine | contender | requests/s (min–max) | CPU µs/request (min–max) | p99 ms (min–max) | errors | ratio to raw: req/s, CPU, p99 |")
print("|---|---|---|---|---|---|---|")
for engine in dict.fromkeys(e for e, _ in rows):
    base = rows.get((engine, "raw"))
    for side in contenders:
        r = rows.get((engine, side))
        if not r:
            continue
        med = {k: statistics.median(v) for k, v in r.items() if k != "errors"}
        span = {k: f"{min(v):,.1f}–{max(v):,.1f}" for k, v in r.items() if k != "errors"}
        ratio = ""
        if base:
            b = {k: statistics.median(v) for k, v in base.items() if k != "errors"}
            ratio = (f"{med['rps'] / b['rps']:.2f}×, {med['cpu_us_per_req'] / b['cpu_us_per_req']:.2f}×, "
                     f"{med['p99_ms'] / b['p99_ms']:.2f}×")
        print(f"| {engine} | {side} | {med['rps']:,.0f} ({span['rps']}) | {med['cpu_us_per_req']:.1f} "
              f"({span['cpu_us_per_req']}) | {med['p99_ms']:.2f} ({span['p99_ms']}) | {sum(r['errors'])} | {ratio} |")
PY
