#!/usr/bin/env bash
# Cold start of a bisslog-rs Lambda function: process start → the first
# invocation's response reaching a local mock of the Lambda Runtime API
# (crates/bisslog-lambda/tests/lambda/runtime_api.rs, `cold_start`), for a
# release build. Prints the median, min, p90 and max of RUNS starts
# (default 25) and the binary's size.
#
#   bench/lambda-cold-start.sh                    # lambda-echo, 25 runs
#   RUNS=50 bench/lambda-cold-start.sh
#   FUNCTION=registry bench/lambda-cold-start.sh  # the company data registry's
#                                                 # generated bootstrap (memory store)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
case "${FUNCTION:-echo}" in
  echo)
    cargo build --release --quiet -p bisslog-lambda --features echo-function --bin lambda-echo
    binary="$target/release/lambda-echo"
    event="" ;;
  registry)
    cargo build --release --quiet -p bootstrap
    binary="$target/release/bootstrap"
    event="$(realpath bench/lambda-events/get-schemas.json)" ;;
  *) echo "FUNCTION must be echo or registry" >&2; exit 2 ;;
esac
stripped="$binary.stripped"
strip -o "$stripped" "$binary"
echo "binary: $(stat -c %s "$binary") bytes; stripped: $(stat -c %s "$stripped") bytes"
BISSLOG_LAMBDA_ECHO="$(realpath "$stripped")" BISSLOG_COLD_STARTS="${RUNS:-25}" \
  BISSLOG_COLD_START_EVENT="$event" \
  cargo test --quiet -p bisslog-lambda --test lambda -- --ignored --nocapture --exact runtime_api::cold_start 2>&1 \
  | grep -E '^lambda cold start|FAILED|panicked'
