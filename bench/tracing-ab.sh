#!/usr/bin/env bash
# A/B of tracing: the runner's bisslog-rs-app binary (built with the `otlp`
# feature) with OTLP export off (no OTEL_EXPORTER_OTLP_ENDPOINT: the
# default) and on with every call sampled (the default sampler, exporting to
# the otlp-sink binary, a collector stand-in that takes each batch and
# answers 200). Both servers pinned to CPU 0, wrk and the sink to CPU 1,
# interleaved reps (order swapped every rep); requests/s and server CPU µs per
# request (docs/benchmarks.md, "Tracing overhead").
# Needs the release build of bench/bisslog-rs-add (BENCH_WORK/target or
# CARGO_TARGET_DIR=... cargo build --release --locked in bench/bisslog-rs-add),
# wrk, and the shared harness's post.lua (DIR and LUA override the paths).
set -u
DIR=${DIR:-${BENCH_WORK:?set BENCH_WORK or DIR}/target/release}
LUA=${LUA:-$(cd "$(dirname "$0")/../../shared/bench/lib" && pwd)/post.lua}
REPS=${REPS:-5}
DUR=${DUR:-10}
cd "$(dirname "$0")/bisslog-rs-add"
PORT=14318 taskset -c 1 "$DIR/otlp-sink" > /tmp/otlp-sink.out 2>&1 & SINK=$!
RUST_LOG=info PORT=18083 OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:14318 \
  taskset -c 0 "$DIR/bisslog-rs-app" >/dev/null 2>&1 & ON=$!
RUST_LOG=info PORT=18084 taskset -c 0 "$DIR/bisslog-rs-app" >/dev/null 2>&1 & OFF=$!
for port in 18083 18084; do
  curl -s -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 http://127.0.0.1:$port/health/live
done
curl -s -X POST -H 'content-type: application/json' -d '{"a":1,"b":2}' http://127.0.0.1:18083/add/3; echo
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for rep in $(seq $REPS); do
  if [ $((rep % 2)) = 0 ]; then order="on off"; else order="off on"; fi
  for side in $order; do
    if [ $side = on ]; then port=18083; pid=$ON; else port=18084; pid=$OFF; fi
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
wait $ON $OFF 2>/dev/null
kill $SINK; wait $SINK 2>/dev/null
cat /tmp/otlp-sink.out
