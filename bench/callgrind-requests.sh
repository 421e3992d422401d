#!/usr/bin/env bash
# Instructions the server executes per request, counted by callgrind (the
# same for the same binary and inputs whatever else the machine does): runs
# BIN under callgrind with the given VAR=VALUE settings, sends N1 and then
# N2 requests `POST /add/3` over one keep-alive connection in two separate
# runs, and prints (I(N2) - I(N1)) / (N2 - N1), so start-up and shutdown
# cancel out. Every thread of the process is counted (the OTLP exporter's
# too).
#   bench/callgrind-requests.sh BIN [VAR=VALUE...]
# N1 and N2 default to 500 and 2500; PORT to 18090. COUNT=atomics prints
# the atomic read-modify-write instructions per request too (callgrind's
# global bus events).
set -eu
BIN=$1; shift
N1=${N1:-500}; N2=${N2:-2500}; PORT=${PORT:-18090}
run() {
  local n=$1 out; shift; out=$(mktemp)
  env "$@" PORT=$PORT RUST_LOG=warn valgrind --tool=callgrind --collect-bus=yes --callgrind-out-file="$out" "$BIN" >/dev/null 2>&1 &
  local pid=$!
  curl -s -o /dev/null --retry 60 --retry-connrefused --retry-delay 1 "http://127.0.0.1:$PORT/health/live"
  python3 - "$PORT" "$n" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("POST", "/add/3", body=b'{"a":1,"b":2}', headers={"content-type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
  kill -TERM $pid; wait $pid || true
  # events: Ir Ge
  awk '/^summary:/ {print $2 "," $3}' "$out"; rm -f "$out"
}
c1=$(run "$N1" "$@"); c2=$(run "$N2" "$@")
python3 - "$N1" "$N2" "$c1" "$c2" "${COUNT:-}" <<'PY'
import sys
n1, n2, c1, c2, count = sys.argv[1:]
(i1, a1), (i2, a2) = (map(int, c.split(",")) for c in (c1, c2))
n = int(n2) - int(n1)
if count == "atomics":
    print(f"{round((i2 - i1) / n)} instructions, {(a2 - a1) / n:.1f} atomic instructions per request")
else:
    print(round((i2 - i1) / n))
PY
