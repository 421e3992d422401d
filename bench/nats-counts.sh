#!/usr/bin/env bash
# Instructions (valgrind's callgrind, every thread) or heap allocations
# (dhat) per consumed NATS JetStream message: the same for the same binary
# and inputs whatever else the machine does. A private nats-server with
# JetStream on 127.0.0.1:$NATS_PORT, then, for N1 and then N2 messages,
# publishes them (the harness's nats-js-bench MODE=publish), runs the
# consumer under valgrind until the watcher sees the stream empty, stops it
# with SIGTERM and reads the total. Prints (total(N2) - total(N1)) /
# (N2 - N1), so start-up and shutdown cancel out.
#   bench/nats-counts.sh BIN [VAR=VALUE...]
#   bench/nats-counts.sh "$BENCH_WORK/target/release/bisslog-rs-mq" BROKER=nats INBOX=0
#   bench/nats-counts.sh "$BENCH_WORK/target/release/nats-js-bench" MODE=consume CONSUMER=raw
# TOOL (nats-js-bench) defaults to BIN's folder's; N1 and N2 to 2000 and
# 12000; NATS_PORT to 14229; COUNT to instructions (or allocations; kernel:
# CPU time, system calls and context switches by perf stat, with PIN=cpus;
# cache: simulated cache misses; see valgrind-count.sh).
# KEEP=path keeps the larger run's callgrind/dhat output for annotation.
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/nats-js-bench}
N1=${N1:-2000}; N2=${N2:-12000}; NATS_PORT=${NATS_PORT:-14229}; COUNT=${COUNT:-instructions}
. "$(dirname "$0")/valgrind-count.sh"
URL=nats://127.0.0.1:$NATS_PORT
dir=$(mktemp -d)
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$dir/js" >"$dir/nats.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "Server is ready" "$dir/nats.log" && break; sleep 0.1; done
run() {
  local n=$1 pid; shift
  NATS_URL=$URL MODE=publish N=$n "$TOOL" >/dev/null
  # The watcher prints READY, then one line once the stream is empty.
  coproc WATCH { NATS_URL=$URL MODE=watch TIMEOUT_S=600 POLL_MS=20 "$TOOL"; }
  read -r _ <&"${WATCH[0]}"
  under_valgrind "$dir" "$BIN" "$@" NATS_URL=$URL
  pid=$VALGRIND_PID
  read -r line <&"${WATCH[0]}"
  wait "$WATCH_PID" 2>/dev/null || true
  finish_counted "$pid" "$line" "$dir"
}
t1=$(KEEP= run "$N1" "$@")
t2=$(run "$N2" "$@")
per_unit message "$N1" "$N2" "$t1" "$t2"
