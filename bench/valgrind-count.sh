# Shared by the per-message counting scripts (nats-counts.sh,
# redis-allocs.sh, kafka-allocs.sh): source it, then
#   under_valgrind DIR BIN VAR=VALUE...   start BIN with those variables
#                                         under valgrind in the background
#                                         (its pid in VALGRIND_PID)
#   valgrind_totals DIR                   print "bytes blocks" (dhat) or
#                                         "instructions instructions" (callgrind)
#   per_unit UNIT N1 N2 B1 K1 B2 K2       print the difference per unit
# COUNT=instructions counts instructions (callgrind, every thread), else
# heap allocations (dhat). KEEP=path keeps the last run's valgrind output.

under_valgrind() {
  local dir=$1 bin=$2; shift 2
  if [ "${COUNT:-}" = instructions ]; then
    env "$@" RUST_LOG=warn valgrind --tool=callgrind --callgrind-out-file="$dir/valgrind.out" \
      "$bin" >/dev/null 2>&1 &
  else
    env "$@" RUST_LOG=warn valgrind --tool=dhat --dhat-out-file="$dir/valgrind.out" \
      --log-file="$dir/dhat.log" "$bin" >/dev/null 2>&1 &
  fi
  VALGRIND_PID=$!
}

valgrind_totals() {
  local dir=$1
  cp "$dir/valgrind.out" "${KEEP:-/dev/null}" 2>/dev/null || true
  if [ "${COUNT:-}" = instructions ]; then
    awk '/^summary:/ {print $2, $2}' "$dir/valgrind.out"
  else
    # "Total:     1,234 bytes in 56 blocks"
    awk '/Total:/ {gsub(",", ""); print $3, $6}' "$dir/dhat.log"
  fi
}

per_unit() {
  local unit=$1 n1=$2 n2=$3 b1=$4 k1=$5 b2=$6 k2=$7
  if [ "${COUNT:-}" = instructions ]; then
    python3 -c "print(f'instructions/$unit {($k2 - $k1) / ($n2 - $n1):.0f}')"
  else
    python3 -c "n = $n2 - $n1; print(f'allocations/$unit {($k2 - $k1) / n:.1f}, bytes/$unit {($b2 - $b1) / n:.0f}')"
  fi
}
