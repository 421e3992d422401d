#!/usr/bin/env bash
# A/B of tracing: the runner's bisslog-rs-app binary (built with the `otlp`
# feature) with OTLP export off (no OTEL_EXPORTER_OTLP_ENDPOINT: the
# default) and on with every call sampled (the default sampler), exporting to
# the otlp-sink binary, a collector stand-in that takes each batch and
# answers 200, pinned to CPU 1 with wrk. By bench/ab.sh's method: both
# servers pinned to CPU 0, interleaved reps; requests/s and server CPU µs
# per request, with an A/A pair (off2) for the noise (docs/benchmarks.md,
# "Tracing overhead").
# Needs the release build of bench/bisslog-rs-add (BENCH_WORK/target, or DIR),
# wrk, and the shared harness's post.lua (LUA).
set -u
DIR=${DIR:-${BENCH_WORK:?set BENCH_WORK or DIR}/target/release}
PORT=14318 taskset -c 1 "$DIR/otlp-sink" & sink=$!
"$(dirname "$0")/ab.sh" off="$DIR/bisslog-rs-app" \
  on="$DIR/bisslog-rs-app:OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:14318" \
  off2="$DIR/bisslog-rs-app"
kill $sink; wait $sink 2>/dev/null
