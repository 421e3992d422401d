#!/usr/bin/env bash
# The load-independent companion of metrics-ab.sh: the bisslog-rs-add binary
# under callgrind, with metrics (METRICS unset) and without (METRICS=0), one
# after the other; for each, the user-space instructions and the clock reads
# (calls to clock_gettime) per request, counted over DUR seconds of
# `wrk -t1 -c32` after a 3 s warm-up (callgrind's counters zeroed between).
# Instruction counts do not move with the machine's load, so two builds can
# be compared on a busy machine; they do not weigh instructions (a clock
# read is one call but ~23 ns here, see docs/benchmarks.md).
# Needs valgrind, wrk, python3, the release build (BIN) and post.lua (LUA).
set -u
BIN=${BIN:?set BIN to a release bisslog-rs-add}
LUA=${LUA:-$(cd "$(dirname "$0")/../../shared/bench/lib" && pwd)/post.lua}
DUR=${DUR:-8}
OUT=${OUT:-$(mktemp -d)}
cd "$(dirname "$0")/bisslog-rs-add"
for side in on off; do
  port=$((18091 + RANDOM % 100))
  if [ $side = off ]; then export METRICS=0; else unset METRICS; fi
  RUST_LOG=info PORT=$port valgrind --tool=callgrind --callgrind-out-file=$OUT/$side.cg \
    $BIN >/dev/null 2>$OUT/$side.log & vg=$!
  curl -s -o /dev/null --retry 60 --retry-connrefused --retry-delay 1 http://127.0.0.1:$port/health/live
  wrk -t1 -c32 -d3s -s $LUA http://127.0.0.1:$port/add/3 >/dev/null
  callgrind_control -z $vg >/dev/null
  out=$(wrk -t1 -c32 -d${DUR}s -s $LUA http://127.0.0.1:$port/add/3)
  callgrind_control -d $vg >/dev/null
  kill $vg; wait $vg 2>/dev/null
  reqs=$(echo "$out" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
  python3 - "$OUT/$side.cg.1" "$reqs" "$side" <<'PY'
import re, sys
path, reqs, side = sys.argv[1], int(sys.argv[2]), sys.argv[3]
names, callee, clock, total = {}, None, 0, 0
for line in open(path, errors="replace"):
    if line.startswith("summary:"):
        total = int(line.split()[1])
    m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3)
        callee = names.get(m.group(2), "") if m.group(1) == "cfn" else None
    elif line.startswith("calls=") and callee is not None:
        if callee.startswith("clock_gettime"):
            clock += int(line.split()[0][6:])
        callee = None
print(f"metrics {side}: {reqs} requests, {total / reqs:.0f} instructions and {clock / reqs:.2f} clock reads per request")
PY
done
