#!/usr/bin/env bash
# metrics-ab.sh's method over any number of servers, to compare two builds
# and to run an A/A pair (the same build twice) that shows the noise:
#   bench/metrics-abn.sh NAME=BIN:on|off ...
# e.g. before-on=/tmp/before:on before-off=/tmp/before:off after-on=$BIN:on
#      after-off=$BIN:off after-on2=$BIN:on
# (off runs the binary with METRICS=0). Every server is pinned to CPU 0, wrk
# to CPU 1; each measurement is a 2 s warm-up and DUR seconds of
# `wrk -t1 -c32`, the servers' order rotated (and reversed every other rep).
# Prints one line per measurement: requests/s and server CPU µs per request.
set -u
LUA=${LUA:-$(cd "$(dirname "$0")/../../shared/bench/lib" && pwd)/post.lua}
REPS=${REPS:-6}
DUR=${DUR:-8}
cd "$(dirname "$0")/bisslog-rs-add"
names=(); pids=(); ports=(); i=0
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}; bin=${rest%:*}; side=${rest##*:}
  port=$((18101 + i))
  if [ "$side" = off ]; then
    RUST_LOG=info METRICS=0 PORT=$port taskset -c 0 $bin >/dev/null 2>&1 &
  else
    RUST_LOG=info PORT=$port taskset -c 0 $bin >/dev/null 2>&1 &
  fi
  pids+=($!); names+=("$name"); ports+=($port); i=$((i + 1))
done
for port in "${ports[@]}"; do
  curl -s -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 http://127.0.0.1:$port/health/live
done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
n=${#names[@]}
for rep in $(seq $REPS); do
  echo "# rep $rep, $(uptime | sed 's/.*load/load/')"
  for k in $(seq 0 $((n - 1))); do
    j=$(((k + rep) % n))
    if [ $((rep % 2)) = 0 ]; then j=$((n - 1 - j)); fi
    port=${ports[$j]}; pid=${pids[$j]}
    taskset -c 1 wrk -t1 -c32 -d2s -s $LUA http://127.0.0.1:$port/add/3 >/dev/null
    c0=$(cpu $pid)
    out=$(taskset -c 1 wrk -t1 -c32 -d${DUR}s -s $LUA http://127.0.0.1:$port/add/3)
    c1=$(cpu $pid)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
    echo "rep=$rep side=${names[$j]} rps=$rps cpu_us_per_req=$(python3 -c "print(round(($c1-$c0)*10000/$reqs,2))")"
  done
done
kill "${pids[@]}"
