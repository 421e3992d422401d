#!/usr/bin/env bash
# Cold start of a bisslog-rs Lambda function: process start → the first
# invocation's response reaching a local mock of the Lambda Runtime API
# (crates/bisslog-lambda/tests/lambda/runtime_api.rs, `cold_start`), for a
# release build of the example function `lambda-echo`. Prints the median,
# min, p90 and max of RUNS starts (default 25) and the binary's size.
#
#   bench/lambda-cold-start.sh            # 25 runs
#   RUNS=50 bench/lambda-cold-start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet -p bisslog-lambda --bin lambda-echo
binary="$target/release/lambda-echo"
stripped="$target/release/lambda-echo.stripped"
strip -o "$stripped" "$binary"
echo "binary: $(stat -c %s "$binary") bytes; stripped: $(stat -c %s "$stripped") bytes"
BISSLOG_LAMBDA_ECHO="$(realpath "$stripped")" BISSLOG_COLD_STARTS="${RUNS:-25}" \
  cargo test --quiet -p bisslog-lambda --test lambda -- --ignored --nocapture --exact runtime_api::cold_start 2>&1 \
  | grep -E '^lambda cold start|FAILED|panicked'
