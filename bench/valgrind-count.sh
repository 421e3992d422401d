# Shared by the per-message counting scripts (nats-counts.sh,
# redis-allocs.sh, kafka-allocs.sh): source it, then
#   under_valgrind DIR BIN VAR=VALUE...   start BIN with those variables
#                                         under the counter in the background
#                                         (its pid in VALGRIND_PID)
#   stop_counted PID                      stop it (SIGTERM to BIN) and wait
#   finish_counted PID LINE DIR           after the watcher's LINE: stop it
#                                         and print its totals, or stop it
#                                         and fail when the queue did not drain
#   valgrind_totals DIR                   print the run's totals on one line
#   per_unit UNIT N1 N2 TOTALS1 TOTALS2   print the difference per unit
# COUNT=instructions counts instructions (callgrind, every thread);
# COUNT=kernel counts what valgrind cannot see, with perf stat over every
# thread: CPU time (and its user and system parts), system calls (in all, and the socket writes and reads,
# epoll waits and futex calls among them) and context switches; else heap
# allocations (dhat); COUNT=cache simulates the caches (cachegrind: L1
# and last-level misses, for the cost instructions do not show when the
# machine exposes no hardware counters); COUNT=atomics counts instructions
# and the atomic read-modify-write instructions among them (callgrind's
# global bus events: each a locked instruction, which costs a few cycles to
# tens of cycles where an ordinary one costs a fraction of one, so two
# builds with the same instructions can differ in CPU by these). KEEP=path
# keeps the last run's counter output.
# PIN=cpus runs BIN with taskset (COUNT=kernel only: valgrind runs one
# thread at a time anyway).

KERNEL_EVENTS=task-clock,user_time,system_time,page-faults,context-switches,raw_syscalls:sys_enter
KERNEL_EVENTS=$KERNEL_EVENTS,syscalls:sys_enter_write,syscalls:sys_enter_writev
KERNEL_EVENTS=$KERNEL_EVENTS,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg
KERNEL_EVENTS=$KERNEL_EVENTS,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom
KERNEL_EVENTS=$KERNEL_EVENTS,syscalls:sys_enter_recvmsg,syscalls:sys_enter_epoll_wait
KERNEL_EVENTS=$KERNEL_EVENTS,syscalls:sys_enter_futex

under_valgrind() {
  local dir=$1 bin=$2; shift 2
  case "${COUNT:-}" in
    instructions|atomics)
      env "$@" RUST_LOG=warn valgrind --tool=callgrind --collect-bus=yes \
        --callgrind-out-file="$dir/valgrind.out" "$bin" >/dev/null 2>&1 & ;;
    cache)
      env "$@" RUST_LOG=warn valgrind --tool=cachegrind --cache-sim=yes \
        --cachegrind-out-file="$dir/valgrind.out" "$bin" >/dev/null 2>&1 & ;;
    kernel)
      # perf stat forks BIN and prints when BIN exits: stop_counted
      # signals BIN, not perf (which would die without printing).
      perf stat -x, -o "$dir/valgrind.out" -e "$KERNEL_EVENTS" \
        ${PIN:+taskset -c "$PIN"} env "$@" RUST_LOG=warn "$bin" >/dev/null 2>&1 & ;;
    *)
      env "$@" RUST_LOG=warn valgrind --tool=dhat --dhat-out-file="$dir/valgrind.out" \
        --log-file="$dir/dhat.log" "$bin" >/dev/null 2>&1 & ;;
  esac
  VALGRIND_PID=$!
}

stop_counted() {
  local pid=$1
  if [ "${COUNT:-}" = kernel ]; then
    pkill -TERM -P "$pid" || true
  else
    kill -TERM "$pid"
  fi
  wait "$pid" || true
}

finish_counted() {
  local pid=$1 line=$2 dir=$3
  case $line in
    *'"timed_out":false'*) ;;
    *) echo "not drained: $line" >&2; stop_counted "$pid"; exit 1 ;;
  esac
  stop_counted "$pid"
  valgrind_totals "$dir"
}

valgrind_totals() {
  local dir=$1
  cp "$dir/valgrind.out" "${KEEP:-/dev/null}" 2>/dev/null || true
  case "${COUNT:-}" in
    # events: Ir Ge
    instructions) awk '/^summary:/ {print $2}' "$dir/valgrind.out" ;;
    atomics) awk '/^summary:/ {print $2, $3}' "$dir/valgrind.out" ;;
    # events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
    cache) awk '/^summary:/ {print $2, $3, $6 + $9, $4 + $7 + $10, $5 + $8}' "$dir/valgrind.out" ;;
    # "value,unit,event,..." lines: CPU ms, then the counts in the order
    # per_unit names them.
    kernel) python3 - "$dir/valgrind.out" <<'PY'
import sys
v = {}
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) > 2 and f[0] and not line.startswith("#"):
        v[f[2]] = float(f[0]) if f[0][0].isdigit() else 0.0
s = lambda *names: sum(v.get("syscalls:sys_enter_" + n, 0) for n in names)
print(v.get("task-clock", 0), v.get("user_time", 0) / 1e6, v.get("system_time", 0) / 1e6,
      v.get("raw_syscalls:sys_enter", 0), v.get("context-switches", 0),
      s("write", "writev", "sendto", "sendmsg"), s("read", "recvfrom", "recvmsg"),
      s("epoll_wait"), s("futex"))
PY
    ;;
    # "Total:     1,234 bytes in 56 blocks"
    *) awk '/Total:/ {gsub(",", ""); print $6, $3}' "$dir/dhat.log" ;;
  esac
}

per_unit() {
  local unit=$1 n1=$2 n2=$3 t1=$4 t2=$5
  python3 - "$unit" "$n1" "$n2" "$t1" "$t2" "${COUNT:-}" <<'PY'
import sys
unit, n1, n2, t1, t2, count = sys.argv[1:]
n = int(n2) - int(n1)
d = [(float(b) - float(a)) / n for a, b in zip(t1.split(), t2.split())]
if count == "instructions":
    print(f"instructions/{unit} {d[0]:.0f}")
elif count == "atomics":
    print(f"instructions/{unit} {d[0]:.0f}, atomic instructions/{unit} {d[1]:.1f}")
elif count == "cache":
    print(f"instructions/{unit} {d[0]:.0f}, L1 misses/{unit}: instructions {d[1]:.1f}, data {d[2]:.1f}; "
          f"last-level misses/{unit} {d[3]:.2f}; data accesses/{unit} {d[4]:.0f}")
elif count == "kernel":
    names = ["system calls", "context switches", "socket writes", "socket reads", "epoll waits", "futex calls"]
    print(f"CPU µs/{unit} {d[0] * 1000:.2f} (user {d[1] * 1000:.2f}, system {d[2] * 1000:.2f}), "
          + ", ".join(f"{name}/{unit} {x:.3f}" for name, x in zip(names, d[3:])))
else:
    print(f"allocations/{unit} {d[0]:.1f}, bytes/{unit} {d[1]:.0f}")
PY
}
