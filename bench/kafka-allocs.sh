#!/usr/bin/env bash
# Instructions (or heap allocations) per consumed Kafka record, counted by
# valgrind (the same for the same binary and inputs whatever else the
# machine does), on librdkafka's mock cluster: for N1 and then N2 records,
# a fresh one-broker cluster (kafka-tool MODE=cluster, topic bench.add of 3
# partitions), publishes them (kafka-tool MODE=publish), runs the consumer
# under valgrind until the watcher sees the group's committed offsets at
# the end of every partition, stops it with SIGTERM and reads valgrind's
# total. Prints (total(N2) - total(N1)) / (N2 - N1), so start-up, the group
# join and shutdown cancel out. As bench/redis-allocs.sh does for Redis.
#   bench/kafka-allocs.sh BIN [VAR=VALUE...]
#   bench/kafka-allocs.sh "$BENCH_WORK/target/release/bisslog-rs-mq" BROKER=kafka INBOX=0
#   bench/kafka-allocs.sh "$BENCH_WORK/target/release/kafka-tool" MODE=consume
# TOOL (the kafka-tool binary) defaults to BIN's folder's; N1 and N2 to 2000
# and 12000. COUNT=instructions counts instructions (callgrind, every
# thread: librdkafka's too) instead of allocations (dhat).
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/kafka-tool}
N1=${N1:-2000}; N2=${N2:-12000}
TOPIC=bench.add
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() {
  local n=$1 pid bootstrap; shift
  coproc CLUSTER { MODE=cluster TOPIC=$TOPIC PARTITIONS=3 "$TOOL" 2>"$dir/cluster.log"; }
  read -r bootstrap <&"${CLUSTER[0]}"
  BOOTSTRAP=$bootstrap TOPIC=$TOPIC MODE=publish N=$n "$TOOL" >/dev/null
  # The watcher prints READY, then one line once the group has drained.
  exec {watch}< <(BOOTSTRAP=$bootstrap TOPIC=$TOPIC MODE=watch TIMEOUT_S=600 "$TOOL")
  read -r _ <&$watch
  if [ "${COUNT:-}" = instructions ]; then
    env "$@" BOOTSTRAP="$bootstrap" KAFKA_URL="kafka://$bootstrap" TOPIC=$TOPIC SUBJECT=$TOPIC \
      RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
      "$BIN" >/dev/null 2>&1 &
  else
    env "$@" BOOTSTRAP="$bootstrap" KAFKA_URL="kafka://$bootstrap" TOPIC=$TOPIC SUBJECT=$TOPIC \
      RUST_LOG=warn valgrind --tool=dhat --dhat-out-file="$dir/dhat.json" \
      --log-file="$dir/dhat.log" "$BIN" >/dev/null 2>&1 &
  fi
  pid=$!
  read -r line <&$watch
  exec {watch}<&-
  case $line in *'"timed_out":false'*) ;; *) echo "not drained: $line" >&2; kill -TERM $pid; exit 1 ;; esac
  kill -TERM $pid; wait $pid || true
  # Closing its stdin stops the cluster.
  eval "exec ${CLUSTER[1]}>&-"
  wait "$CLUSTER_PID" 2>/dev/null || true
  if [ "${COUNT:-}" = instructions ]; then
    cp "$dir/callgrind.out" "${KEEP:-/dev/null}" 2>/dev/null || true
    awk '/^summary:/ {print $2, $2}' "$dir/callgrind.out"; return
  fi
  # "Total:     1,234 bytes in 56 blocks"
  awk '/Total:/ {gsub(",", ""); print $3, $6}' "$dir/dhat.log"
}
read -r b1 k1 < <(run "$N1" "$@")
read -r b2 k2 < <(run "$N2" "$@")
if [ "${COUNT:-}" = instructions ]; then
  python3 -c "print(f'instructions/record {($k2 - $k1) / ($N2 - $N1):.0f}')"
else
  python3 -c "n = $N2 - $N1; print(f'allocations/record {($k2 - $k1) / n:.1f}, bytes/record {($b2 - $b1) / n:.0f}')"
fi
