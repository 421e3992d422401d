#!/usr/bin/env bash
# Heap allocations per consumed Redis Streams entry, counted by valgrind's
# dhat (the same for the same binary and inputs whatever else the machine
# does): a private redis-server on 127.0.0.1:$REDIS_PORT, then, for N1 and
# then N2 entries, publishes them (redis-tool MODE=publish), runs the
# consumer under dhat until the watcher sees every entry acknowledged, stops
# it with SIGTERM and reads dhat's total of blocks. Prints
# (blocks(N2) - blocks(N1)) / (N2 - N1), so start-up and shutdown cancel
# out, and the bytes likewise.
#   bench/redis-allocs.sh BIN [VAR=VALUE...]
#   bench/redis-allocs.sh "$BENCH_WORK/target/release/bisslog-rs-mq" BROKER=redis
#   bench/redis-allocs.sh "$BENCH_WORK/target/release/redis-tool" MODE=consume
# TOOL (the redis-tool binary) defaults to BIN's folder's; N1 and N2 to 2000
# and 12000; REDIS_PORT to 16395. COUNT=instructions counts instructions per
# entry instead (valgrind's callgrind, every thread); COUNT=kernel and
# COUNT=cache as in valgrind-count.sh.
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/redis-tool}
N1=${N1:-2000}; N2=${N2:-12000}; REDIS_PORT=${REDIS_PORT:-16395}
. "$(dirname "$0")/valgrind-count.sh"
URL=redis://127.0.0.1:$REDIS_PORT/0
dir=$(mktemp -d)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$dir" \
  --daemonize no >"$dir/redis.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
run() {
  local n=$1 pid; shift
  REDIS_URL=$URL MODE=publish N=$n "$TOOL" >/dev/null
  # The watcher prints READY, then one line once the group has drained.
  coproc WATCH { REDIS_URL=$URL MODE=watch TIMEOUT_S=600 "$TOOL"; }
  read -r _ <&"${WATCH[0]}"
  under_valgrind "$dir" "$BIN" "$@" REDIS_URL=$URL
  pid=$VALGRIND_PID
  read -r line <&"${WATCH[0]}"
  wait "$WATCH_PID" 2>/dev/null || true
  finish_counted "$pid" "$line" "$dir"
}
t1=$(KEEP= run "$N1" "$@")
t2=$(run "$N2" "$@")
per_unit entry "$N1" "$N2" "$t1" "$t2"
