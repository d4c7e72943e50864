#!/usr/bin/env bash
# Clone a unit, then let NUT judge the clone: for every shipped profile,
# `upsharness clone --sim PROFILE` writes a profile; NUT 2.8.0's apcsmart
# driver runs on the original and on the clone, and must report the same
# values (everything upsc shows, less what moves by itself: the driver's
# own bookkeeping and the readings the model computes over time).
# RC_SHARD=i/n takes every n-th profile (see tests/CMakeLists.txt).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut

HARNESS=${UPSSIM_HARNESS:-$(dirname "$UPSSIM_BIN")/upsharness}
[ -x "$HARNESS" ] || rc_abort "upsharness not found next to $UPSSIM_BIN"

# Values that move by themselves or belong to the driver, not the unit;
# output.current too: the unit computes it from its VA rating, which no
# UPS-Link query gives (clone estimates the rating from `/`, O and P, to
# two digits of the reading).
MOVING='^(driver\.|device\.type|ups\.time|ups\.date|battery\.runtime|battery\.charge|battery\.voltage|input\.voltage|input\.frequency|output\.voltage|output\.current|ups\.load|ups\.temperature|input\.voltage\.(maximum|minimum)|ups\.test\.result|battery\.date\.maintenance)'

snapshot() {  # FILE: upsc's variables, less the moving ones, sorted
  upsc_all | grep -Ev "$MOVING" | sort >"$1"
}

SHARD_I=1 SHARD_N=1
if [ -n "${RC_SHARD:-}" ]; then SHARD_I=${RC_SHARD%/*}; SHARD_N=${RC_SHARD#*/}; fi
mapfile -t ALL < <("$UPSSIM_BIN" --list-profiles | awk '{ print $1 }')
check_ok "upssim lists its profiles" test "${#ALL[@]}" -ge 10
IDX=0
for P in "${ALL[@]}"; do
  IDX=$((IDX + 1))
  [ $(( (IDX - 1) % SHARD_N + 1 )) -eq "$SHARD_I" ] || continue
  log "=== $P"
  CLONE=$RC_TMP/$P.clone.yaml
  if ! "$HARNESS" clone --sim "$P" >"$CLONE" 2>"$RC_TMP/$P.clone.err"; then
    rc_tail "$RC_TMP/$P.clone.err"
    fail "upsharness clone --sim $P"
    continue
  fi
  pass "upsharness clone --sim $P wrote $(wc -l <"$CLONE") lines"
  for which in original clone; do
    prof=$P
    [ $which = clone ] && prof=$CLONE
    sim_start "$prof"
    if nut_start "$SIM_DEV"; then
      snapshot "$RC_TMP/$P.$which.upsc"
    else
      : >"$RC_TMP/$P.$which.upsc"
    fi
    nut_stop
    sim_stop
  done
  n=$(wc -l <"$RC_TMP/$P.original.upsc")
  if diff -u "$RC_TMP/$P.original.upsc" "$RC_TMP/$P.clone.upsc" >"$RC_TMP/$P.diff"; then
    check_ok "NUT[$P]: the clone shows the original's $n values" test "$n" -ge 5
  else
    cat "$RC_TMP/$P.diff"
    fail "NUT[$P]: the clone shows what the original does ($n values)"
  fi
done
