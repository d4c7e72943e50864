#!/bin/bash
# test_import_replay.sh - the captures people already have, replayed
# (docs/trace.md, "Importers" and "Replay"): NUT 2.8.0's apcsmart debug log
# (-DDDDD) and apcupsd 3.14's debug log (-d 200), made by the real programs
# against upssim playing a Smart-UPS 1000 230 V, are imported with
# `upssim-trace import` and replayed with `upssim --replay` over the
# *default* profile (a Smart-UPS 1500 120 V).  The same client then
# reports the same thing: every upsc variable, every apcaccess field but
# the clock's.  The replay must also have had an answer for every command
# the client sent.
set -u
source "$(dirname "$0")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd
TRACE_TOOL=${TRACE_TOOL:-$(dirname "$UPSSIM_BIN")/upssim-trace}
[ -x "$TRACE_TOOL" ] || rc_abort "upssim-trace next to upssim ($TRACE_TOOL)"

# scans_done LOG N: the NUT driver finished N poll scans
scans_done() { [ "$(grep -c 'update_info: scan completed' "$1" 2>/dev/null)" -ge "$2" ]; }

# ---- NUT -------------------------------------------------------------------
sim_start smart-ups-1000-230
NUT_DEBUG=-DDDDD nut_start "$SIM_DEV" || rc_abort "NUT started on the recording"
wait_until 20 scans_done "$NUT_DIR/driver.log" 3 ||
  fail "the driver completed three poll scans"
upsc_all | sort >"$RC_TMP/nut-recorded.txt"
nut_stop
sim_stop
NUT_LOG=$NUT_DIR/driver.log
check_match "the recording is not the default unit" "1000" \
  "$(grep '^device.model' "$RC_TMP/nut-recorded.txt")"

if "$TRACE_TOOL" import "$NUT_LOG" -o "$RC_TMP/nut.trace" 2>"$RC_TMP/import.err"; then
  pass "upssim-trace import of the NUT -DDDDD log"
else
  rc_tail "$RC_TMP/import.err"
  rc_abort "upssim-trace import of the NUT -DDDDD log"
fi
check_match "the imported trace says where it came from" "imported from nut" \
  "$(head -n 1 "$RC_TMP/nut.trace")"
"$TRACE_TOOL" check "$RC_TMP/nut.trace" >"$RC_TMP/nut.check" ||
  fail "the imported trace reads back"
log "$(cat "$RC_TMP/nut.check")"

sim_start "" --replay "$RC_TMP/nut.trace"
nut_start "$SIM_DEV" || rc_abort "NUT started on the replay"
wait_until 20 scans_done "$NUT_DIR/driver.log" 3 ||
  fail "the driver completed three poll scans on the replay"
upsc_all | sort >"$RC_TMP/nut-replayed.txt"
nut_stop
sim_stop
if diff "$RC_TMP/nut-recorded.txt" "$RC_TMP/nut-replayed.txt" >"$RC_TMP/nut.diff"; then
  pass "upsc on the replay = upsc on the recorded unit ($(wc -l <"$RC_TMP/nut-replayed.txt") variables)"
else
  fail "upsc on the replay = upsc on the recorded unit"
  sed 's/^/#   /' "$RC_TMP/nut.diff"
fi
check_match "NUT asked nothing the trace lacked" \
  "every command the host sent was in it" "$(grep '^upssim: replay:' "$SIM_TRACE")"

# ---- apcupsd ---------------------------------------------------------------
# fields that tell the time of the run, not the unit
apc_fields() {
  apc_status || return 1
  grep -v -E "^(DATE|STARTTIME|END APC|TONBATT|CUMONBATT|XOFFBATT) *:" <<<"$APC_STATUS"
}
sim_start smart-ups-1000-230
APC_DEBUG=200 apc_start "$SIM_DEV" || rc_abort "apcupsd started on the recording"
apc_fields >"$RC_TMP/apc-recorded.txt"
apc_stop
sim_stop
APC_LOG=$APC_DIR/apcupsd.log
check_match "the recording is not the default unit" "1000" \
  "$(grep '^MODEL' "$RC_TMP/apc-recorded.txt")"
if "$TRACE_TOOL" import "$APC_LOG" -o "$RC_TMP/apc.trace" 2>"$RC_TMP/import.err"; then
  pass "upssim-trace import of the apcupsd -d 200 log"
else
  rc_tail "$RC_TMP/import.err"
  rc_abort "upssim-trace import of the apcupsd -d 200 log"
fi
check_match "the imported trace says where it came from" "imported from apcupsd" \
  "$(head -n 1 "$RC_TMP/apc.trace")"

sim_start "" --replay "$RC_TMP/apc.trace"
apc_start "$SIM_DEV" || rc_abort "apcupsd started on the replay"
apc_fields >"$RC_TMP/apc-replayed.txt"
apc_stop
sim_stop
if diff "$RC_TMP/apc-recorded.txt" "$RC_TMP/apc-replayed.txt" >"$RC_TMP/apc.diff"; then
  pass "apcaccess on the replay = apcaccess on the recorded unit ($(wc -l <"$RC_TMP/apc-replayed.txt") fields)"
else
  fail "apcaccess on the replay = apcaccess on the recorded unit"
  sed 's/^/#   /' "$RC_TMP/apc.diff"
fi
check_match "apcupsd asked nothing the trace lacked" \
  "every command the host sent was in it" "$(grep '^upssim: replay:' "$SIM_TRACE")"
