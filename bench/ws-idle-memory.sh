#!/usr/bin/env bash
# Memory per idle WebSocket connection: a bisslog-rs service with WebSocket
# triggers (bench/bisslog-rs-add's `bisslog-rs-ws`) against a hand-written
# axum server (bench/raw-registry-write's `raw-ws`), with an A/A pair (the
# raw server twice) to show the noise.
#
#   bench/ws-idle-memory.sh            # REPS=3 COUNT=10000
#
# Each measurement starts the server afresh, pinned to CPU 0, reads its RSS
# (VmRSS) once it answers (idle), then runs bench/raw-registry-write's
# `ws-idle-client` on CPU 1, which opens COUNT connections from 4 loopback
# source addresses and holds them; once every one is open and the server's
# RSS has not moved for a second, it reads the RSS again, and once more
# after the client has closed them all. Memory per connection =
# (RSS with COUNT open - RSS idle) / COUNT. The contenders' order rotates.
#
# Needs the release binaries in $BIN_DIR (default /tmp/bench-measure/target/release):
#   (cd bench/raw-registry-write && CARGO_TARGET_DIR=/tmp/bench-measure/target cargo build --release --locked)
#   (cd bench/bisslog-rs-add && CARGO_TARGET_DIR=/tmp/bench-measure/target cargo build --release --locked --bin bisslog-rs-ws)
set -u
BIN_DIR=${BIN_DIR:-/tmp/bench-measure/target/release}
REPS=${REPS:-3}
COUNT=${COUNT:-10000}
CONTENDERS=${CONTENDERS:-raw bisslog-rs raw-again}
PORT=18411
# Each side holds COUNT sockets.
ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d "${TMPDIR:-/tmp}/ws-idle.XXXXXX")
results=$work/results.txt
echo "# results and logs in $work"
pid=; client=
trap '[ -n "$client" ] && kill -INT "$client" 2>/dev/null; [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null' EXIT
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# The RSS once it has stayed the same for a second (at most 20 s).
settled_rss() {
  local before now
  before=$(rss_kib "$1")
  for _ in $(seq 20); do
    sleep 1
    now=$(rss_kib "$1")
    [ "$now" = "$before" ] && break
    before=$now
  done
  echo "$now"
}

read -r -a order <<<"$CONTENDERS"
count=${#order[@]}
for rep in $(seq "$REPS"); do
  echo "# rep $rep, $(uptime | sed 's/.*load/load/')"
  for k in $(seq 0 $((count - 1))); do
    j=$(((k + rep) % count))
    if [ $((rep % 2)) = 0 ]; then j=$((count - 1 - j)); fi
    name=${order[$j]}
    case $name in
      raw*) bin=$BIN_DIR/raw-ws ;;
      bisslog-rs*) bin=$BIN_DIR/bisslog-rs-ws ;;
      *) echo "unknown contender $name" >&2; exit 2 ;;
    esac
    log=$work/$rep-$name
    RUST_LOG=info PORT=$PORT taskset -c 0 "$bin" >"$log.server" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      curl -fs -o /dev/null "http://127.0.0.1:$PORT/health/live" && break
      sleep 0.1
    done
    idle=$(settled_rss "$pid")
    # exec: the coprocess's pid is the client's, for the SIGINT below.
    coproc CLIENT { exec env URL="ws://127.0.0.1:$PORT/ws" COUNT="$COUNT" taskset -c 1 "$BIN_DIR/ws-idle-client" 2>"$log.client"; }
    client=$CLIENT_PID
    opened=
    read -r -t 300 opened <&"${CLIENT[0]}"
    if [ "$opened" != "open $COUNT" ]; then
      echo "$name: the client said '$opened': $(cat "$log.client")" >&2
      exit 1
    fi
    held=$(settled_rss "$pid")
    kill -INT "$client"; wait "$client" 2>/dev/null; client=
    closed=$(settled_rss "$pid")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null; pid=
    python3 -c "
import sys
rep, name, idle, held, closed, count = sys.argv[1:]
idle, held, closed, count = int(idle), int(held), int(closed), int(count)
print(f'rep={rep} side={name} idle_mib={idle/1024:.1f} open_mib={held/1024:.1f} closed_mib={closed/1024:.1f} kib_per_conn={(held-idle)/count:.2f}')
" "$rep" "$name" "$idle" "$held" "$closed" "$COUNT" | tee -a "$results"
  done
done

python3 - "$results" "$CONTENDERS" "$COUNT" <<'PY'
import statistics, sys
from collections import defaultdict
path, contenders, count = sys.argv[1], sys.argv[2].split(), sys.argv[3]
rows = defaultdict(lambda: defaultdict(list))
for line in open(path):
    f = dict(kv.split("=", 1) for kv in line.split())
    for key in ("idle_mib", "open_mib", "closed_mib", "kib_per_conn"):
        rows[f["side"]][key].append(float(f[key]))
base = statistics.median(rows["raw"]["kib_per_conn"]) if "raw" in rows else None
print()
print(f"| server | idle RSS MiB | RSS with {count} open MiB | after closing MiB | KiB per connection (min–max) | ratio to raw |")
print("|---|---|---|---|---|---|")
for side in contenders:
    r = rows.get(side)
    if not r:
        continue
    med = {k: statistics.median(v) for k, v in r.items()}
    per = r["kib_per_conn"]
    ratio = f"{med['kib_per_conn'] / base:.2f}×" if base else ""
    print(f"| {side} | {med['idle_mib']:.1f} | {med['open_mib']:.1f} | {med['closed_mib']:.1f} | "
          f"{med['kib_per_conn']:.2f} ({min(per):.2f}–{max(per):.2f}) | {ratio} |")
PY
