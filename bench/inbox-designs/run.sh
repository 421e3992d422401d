#!/usr/bin/env bash
# The inbox designs of issue 18, interleaved: REPS rounds of f a b c d e
# (each a fresh process on a fresh WAL file, pinned to CPU 0), perf's
# task-clock and context switches enabled for the timed phase only, then
# the table. Knobs: N (100000), REPS (3), DESIGNS ("f a b c d e"; "d:again"
# adds a second d under its own label, an A/A pair),
# IN_FLIGHT (16), SAVEPOINTS (1; 0 = group commit without savepoints),
# DB_DIR (/tmp/bench-inbox/db: a disk, not tmpfs, as
# WAL checkpoints write and sync), CARGO_TARGET_DIR (/tmp/bench-inbox/target).
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-100000}
REPS=${REPS:-3}
DESIGNS=${DESIGNS:-"f a b c d e"}
DB_DIR=${DB_DIR:-/tmp/bench-inbox/db}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/bench-inbox/target}
cargo build --release --locked -q
bin="$CARGO_TARGET_DIR/release/inbox-designs"
out=${OUT:-/tmp/bench-inbox/results-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkfifo "$work/ctl" "$work/ack"
for rep in $(seq 1 "$REPS"); do
    for token in $DESIGNS; do
        # "d:again" runs d once more under its own label: an A/A pair.
        design=${token%%:*}
        label=${token#"$design"}
        label=${label#:}
        PERF_CTL="$work/ctl" PERF_ACK="$work/ack" \
            perf stat -x, -o "$work/perf" -e task-clock,context-switches \
            --delay=-1 --control "fifo:$work/ctl,$work/ack" -- \
            taskset -c 0 "$bin" run "$design" "$N" "$DB_DIR" > "$work/line"
        task_ms=$(awk -F, '$3 ~ /^task-clock/ {print $1}' "$work/perf")
        switches=$(awk -F, '$3 ~ /^context-switches/ {print $1}' "$work/perf")
        sed "s/}\$/,\"rep\":$rep,\"label\":\"$label\",\"perf_task_ms\":$task_ms,\"perf_cs\":$switches}/" "$work/line" | tee -a "$out"
    done
done
echo "results: $out"
"$bin" report "$out"
