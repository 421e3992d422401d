#!/usr/bin/env bash
# A/B of the bisslog-rs-add binary with metrics (METRICS unset) and without (METRICS=0):
# both servers pinned to CPU 0, wrk pinned to CPU 1, interleaved reps (order
# swapped every rep); requests/s and server CPU µs per request (docs/benchmarks.md).
# Needs the release build (bench/contenders/http/bisslog-rs/build, or
# CARGO_TARGET_DIR=... cargo build --release --locked in bench/bisslog-rs-add),
# wrk, and the shared harness's post.lua (BIN and LUA override the paths).
set -u
BIN=${BIN:-${BENCH_WORK:?set BENCH_WORK or BIN}/target/release/bisslog-rs-add}
LUA=${LUA:-$(cd "$(dirname "$0")/../../shared/bench/lib" && pwd)/post.lua}
REPS=${REPS:-5}
DUR=${DUR:-10}
cd "$(dirname "$0")/bisslog-rs-add"
RUST_LOG=info PORT=18081 taskset -c 0 $BIN >/dev/null 2>&1 & ON=$!
RUST_LOG=info METRICS=0 PORT=18082 taskset -c 0 $BIN >/dev/null 2>&1 & OFF=$!
for port in 18081 18082; do
  curl -s -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 http://127.0.0.1:$port/health/live
done
curl -s -X POST -H 'content-type: application/json' -d '{"a":1,"b":2}' http://127.0.0.1:18081/add/3; echo
curl -s -o /dev/null -w "metrics on: /metrics %{http_code}\n" http://127.0.0.1:18081/metrics
curl -s -o /dev/null -w "metrics off: /metrics %{http_code}\n" http://127.0.0.1:18082/metrics
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for rep in $(seq $REPS); do
  if [ $((rep % 2)) = 0 ]; then order="on off"; else order="off on"; fi
  for side in $order; do
    if [ $side = on ]; then port=18081; pid=$ON; else port=18082; pid=$OFF; fi
    taskset -c 1 wrk -t1 -c32 -d2s -s $LUA http://127.0.0.1:$port/add/3 >/dev/null
    c0=$(cpu $pid)
    out=$(taskset -c 1 wrk -t1 -c32 -d${DUR}s -s $LUA http://127.0.0.1:$port/add/3)
    c1=$(cpu $pid)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
    echo "rep=$rep side=$side rps=$rps cpu_us_per_req=$(python3 -c "print(round(($c1-$c0)*10000/$reqs,2))")"
  done
done
kill $ON $OFF
