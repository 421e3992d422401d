#!/usr/bin/env bash
# A/B of the bisslog-rs-add binary with metrics (METRICS unset) and without
# (METRICS=0), by bench/ab.sh's method: both servers pinned to CPU 0, wrk to
# CPU 1, interleaved reps; requests/s and server CPU µs per request
# (docs/benchmarks.md, "Metrics overhead"). Add an A/A pair to see the noise:
#   bench/ab.sh on=$BIN off=$BIN:METRICS=0 on2=$BIN
# Needs the release build (bench/contenders/http/bisslog-rs/build, or
# CARGO_TARGET_DIR=... cargo build --release --locked in bench/bisslog-rs-add),
# wrk, and the shared harness's post.lua (BIN and LUA override the paths).
set -u
BIN=${BIN:-${BENCH_WORK:?set BENCH_WORK or BIN}/target/release/bisslog-rs-add}
exec "$(dirname "$0")/ab.sh" on="$BIN" off="$BIN:METRICS=0"
