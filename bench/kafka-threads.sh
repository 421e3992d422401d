#!/usr/bin/env bash
# CPU time and context switches per thread of a Kafka consumer, on
# librdkafka's mock cluster: a fresh one-broker cluster (kafka-tool
# MODE=cluster, bench.add of 3 partitions), N records published, the
# consumer pinned to SERVER_CPUS until the watcher sees the group's
# committed offsets at the end of every partition; then, from
# /proc/<pid>/task/*/{stat,status}, each thread's name, CPU ms (utime +
# stime, 10 ms ticks) and voluntary + involuntary context switches.
#   bench/kafka-threads.sh BIN [VAR=VALUE...]
#   bench/kafka-threads.sh "$BENCH_WORK/target/release/bisslog-rs-mq" BROKER=kafka INBOX=0
# TOOL defaults to BIN's folder's kafka-tool; N to 100000; SERVER_CPUS to 0
# and CLIENT_CPUS (cluster, publisher, watcher) to 1, as kafka-compare.py.
set -eu
BIN=$1; shift
TOOL=${TOOL:-$(dirname "$BIN")/kafka-tool}
N=${N:-100000}; SERVER_CPUS=${SERVER_CPUS:-0}; CLIENT_CPUS=${CLIENT_CPUS:-1}
TOPIC=bench.add
coproc CLUSTER { MODE=cluster TOPIC=$TOPIC PARTITIONS=3 taskset -c "$CLIENT_CPUS" "$TOOL" 2>/dev/null; }
read -r bootstrap <&"${CLUSTER[0]}"
BOOTSTRAP=$bootstrap TOPIC=$TOPIC MODE=publish N=$N taskset -c "$CLIENT_CPUS" "$TOOL" >/dev/null
exec {watch}< <(BOOTSTRAP=$bootstrap TOPIC=$TOPIC MODE=watch TIMEOUT_S=300 taskset -c "$CLIENT_CPUS" "$TOOL")
read -r _ <&$watch
env "$@" BOOTSTRAP="$bootstrap" KAFKA_URL="kafka://$bootstrap" TOPIC=$TOPIC SUBJECT=$TOPIC \
  RUST_LOG=warn taskset -c "$SERVER_CPUS" "$BIN" >/dev/null 2>&1 &
pid=$!
read -r line <&$watch
echo "$line"
tick=$(getconf CLK_TCK)
total=0
for task in /proc/$pid/task/*; do
  name=$(cat "$task/comm")
  # utime and stime: fields 14 and 15 of stat (after the parenthesised name)
  read -r ut st < <(sed 's/.*) //' "$task/stat" | awk '{print $12, $13}')
  cs=$(awk '/ctxt_switches/ {s += $2} END {print s}' "$task/status")
  ms=$(( (ut + st) * 1000 / tick ))
  total=$(( total + ms ))
  printf '%-20s %6d ms %8d switches\n' "$name" "$ms" "$cs"
done | sort -k2 -rn
kill -TERM $pid; wait $pid || true
eval "exec ${CLUSTER[1]}>&-"
wait "$CLUSTER_PID" 2>/dev/null || true
