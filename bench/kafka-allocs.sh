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
# thread: librdkafka's too) instead of allocations (dhat); COUNT=kernel and
# COUNT=cache as in valgrind-count.sh.
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/kafka-tool}
N1=${N1:-2000}; N2=${N2:-12000}
. "$(dirname "$0")/valgrind-count.sh"
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
  under_valgrind "$dir" "$BIN" "$@" BOOTSTRAP="$bootstrap" KAFKA_URL="kafka://$bootstrap" \
    TOPIC=$TOPIC SUBJECT=$TOPIC
  pid=$VALGRIND_PID
  read -r line <&$watch
  exec {watch}<&-
  finish_counted "$pid" "$line" "$dir"
  # Closing its stdin stops the cluster.
  eval "exec ${CLUSTER[1]}>&-"
  wait "$CLUSTER_PID" 2>/dev/null || true
}
t1=$(KEEP= run "$N1" "$@")
t2=$(run "$N2" "$@")
per_unit record "$N1" "$N2" "$t1" "$t2"
