#!/usr/bin/env bash
# CPU time and context switches of a NATS JetStream consumer over one run,
# as bench/kafka-threads.sh does for Kafka: a private nats-server with
# JetStream on 127.0.0.1:$NATS_PORT (pinned to CLIENT_CPUS unless
# PIN_SERVER=0), N messages published (the harness's nats-js-bench
# MODE=publish), the consumer pinned to SERVER_CPUS until the watcher sees
# the stream empty; then, from /proc/<pid>/task/*/{stat,status}, its CPU
# (utime + stime, 10 ms ticks) per message and its voluntary and
# involuntary context switches. REPS runs, each on a fresh server.
#   bench/nats-cpu.sh BIN [VAR=VALUE...]
#   bench/nats-cpu.sh "$BENCH_WORK/target/release/bisslog-rs-mq" BROKER=nats INBOX=0
#   bench/nats-cpu.sh "$BENCH_WORK/target/release/nats-js-bench" MODE=consume CONSUMER=raw
# TOOL defaults to BIN's folder's nats-js-bench; N to 100000; REPS to 1;
# NATS_PORT to 14231; SERVER_CPUS to 0 and CLIENT_CPUS (server, publisher,
# watcher) to 1, as the harness pins them.
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/nats-js-bench}
N=${N:-100000}; REPS=${REPS:-1}; NATS_PORT=${NATS_PORT:-14231}
SERVER_CPUS=${SERVER_CPUS:-0}; CLIENT_CPUS=${CLIENT_CPUS:-1}
URL=nats://127.0.0.1:$NATS_PORT
export NATS_URL=$URL STREAM=BENCH SUBJECT=bench.add
dir=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
tick=$(getconf CLK_TCK)
for rep in $(seq "$REPS"); do
  pin=(taskset -c "$CLIENT_CPUS")
  [ "${PIN_SERVER:-1}" = 0 ] && pin=()
  rm -rf "$dir/js"
  "${pin[@]}" nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$dir/js" >"$dir/nats.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "Server is ready" "$dir/nats.log" && break; sleep 0.1; done
  MODE=publish N=$N taskset -c "$CLIENT_CPUS" "$TOOL" >/dev/null
  # The watcher prints READY, then one line once the stream is empty.
  exec {watch}< <(MODE=watch TIMEOUT_S=300 taskset -c "$CLIENT_CPUS" "$TOOL")
  read -r _ <&$watch
  env "$@" RUST_LOG=warn taskset -c "$SERVER_CPUS" "$BIN" >/dev/null 2>&1 &
  pid=$!
  read -r line <&$watch
  exec {watch}<&-
  ticks=0; voluntary=0; involuntary=0
  for task in /proc/$pid/task/*; do
    read -r -a stat < <(sed 's/.*) //' "$task/stat")
    ticks=$((ticks + stat[11] + stat[12]))
    voluntary=$((voluntary + $(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status")))
    involuntary=$((involuntary + $(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$task/status")))
  done
  kill -TERM $pid; wait $pid 2>/dev/null || true
  kill $server; wait $server 2>/dev/null || true; server=
  rate=$(echo "$line" | grep -o '"consume_msgs_per_s":[0-9.]*' | cut -d: -f2)
  python3 - "$rep" "$ticks" "$tick" "$N" "$voluntary" "$involuntary" "${rate:-?}" <<'PY'
import sys
rep, ticks, tick, n, vol, inv, rate = sys.argv[1:]
us = int(ticks) * 1e6 / int(tick) / int(n)
print(f"rep {rep}: CPU {us:.2f} µs/message ({ticks} ticks), context switches per message "
      f"{int(vol)/int(n):.3f} voluntary + {int(inv)/int(n):.3f} involuntary, {rate} msg/s")
PY
done
