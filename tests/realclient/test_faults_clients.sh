#!/usr/bin/env bash
# Hardware faults and an overload, injected live on the control socket,
# as the registers show them and as NUT 2.8 and apcupsd 3.14 report them.
#
# Each fault is set, read and cleared three times over, once per reader
# (only one host may hold the pty): directly on the pty (Q, `'` trip1,
# `8` trip, `~` state), then under one NUT session (apcsmart, pollinterval
# 1), then under one apcupsd session (POLLTIME 1).
#
# What the clients map (their public source):
#   NUT apcsmart (drivers/apcsmart.h APC_UNR_CMDS "\032\177~')-+8QRYayz",
#     apcsmart_tabs.c apc_vartab): never reads `~`, `'` or `8`; no
#     ups.alarm.  ups.status comes from Q alone (ups_status_set: CAL TRIM
#     BOOST OL OB OVER LB RB, OFF when Q = 00).  The `?` alert a fault
#     sends sets OVER (alert_handler), but in canonical mode it is read with
#     the next reply line -- Q's -- which overwrites it at once: not shown.
#     So NUT shows a fault only when it changes Q: the main relay (unit
#     off: OFF) and the overload (OVER).  A fan fault (Matrix in bypass),
#     a bypass-relay or a boost-relay fault: NUT shows nothing (OL).
#   apcupsd (src/drivers/apcsmart/smart.c read_volatile_data, apcstatus.c):
#     reads `~` `'` `8` into REG1 REG2 REG3, printed raw in hex; STATUS
#     words come from Q (ONLINE ONBATT OVERLOAD LOWBATT ...; nothing when Q
#     = 00) plus NOBATT when REG2 bit 5 is set.  So apcupsd shows every
#     fault in REG1-3, and in STATUS only the overload (OVERLOAD) and the
#     main relay (no ONLINE: STATUS empty).
#
# Faults (docs/scenarios.md; protocol-facts §1.2-1.4 = ULS p.8-10):
#   matrix-ups-5000  fan: `'` bit 0, Matrix in bypass (`~` bit 1, "in
#                    bypass because of an internal fault"), Q still on line
#                    bypass_relay: `8` bit 6
#   smart-ups-1500   main_relay: `8` bit 2, UPS turned off (Q 00)
#                    boost_relay: `'` bit 6 (3G reports `'` bits 6 and 4)
#                    overload 120 % on line: Q bit 5
#                    overload when the line fails: no transfer, output off,
#                    `8` bit 1 (checked on its own, see the end)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

APC_CONF=("POLLTIME 1")

# name|inject|clear|Q|'|8|~ ("-": not asserted)|NUT ups.status|apcupsd STATUS
MATRIX_ROWS=(
  "fan|{fault: fan}|{clear: fan}|08|01|00|02|OL|ONLINE"
  "bypass_relay|{fault: bypass_relay}|{clear: bypass_relay}|08|00|40|00|OL|ONLINE"
)
pget BASE_LOAD smart-ups-1500 electrical.load
SU_ROWS=(
  "main_relay|{fault: main_relay}|{clear: main_relay}|00|00|04|-|OFF|"
  "boost_relay|{fault: boost_relay}|{clear: boost_relay}|08|40|00|-|OL|ONLINE"
  "overload|{overload: 120}|{load: $BASE_LOAD}|28|00|00|-|OL OVER|ONLINE OVERLOAD"
)

row_split() {
  IFS='|' read -r F_NAME F_INJ F_CLR F_Q F_T1 F_T8 F_ST F_NUT F_APC <<<"$1"
}

inject() {
  local what=$1 line=$2 r
  r=$(sim_ctl "$line")
  [ "$r" == ok ] || fail "control $line ($what): expected ok, got '$r'"
}

# pty_regs: Q ' 8 ~ read on the pty into REG_Q REG_T1 REG_T8 REG_ST
pty_regs() {
  local out
  out=$(python3 "$RC_LIB_DIR/pty_query.py" "$SIM_DEV" Q "'" 8 "~") || return 1
  REG_Q=$(sed -n 's/^Q=//p' <<<"$out")
  REG_T1=$(sed -n "s/^'=//p" <<<"$out")
  REG_T8=$(sed -n 's/^8=//p' <<<"$out")
  REG_ST=$(sed -n 's/^~=//p' <<<"$out")
}

apc_regs_are() {   # STATUS REG1 REG2 REG3 ("-" = any)
  apc_status || return 1
  [ "$(apc_field STATUS)" == "$1" ] || return 1
  [ "$2" == - ] || [ "$(apc_field REG1)" == "$2" ] || return 1
  [ "$(apc_field REG2)" == "$3" ] && [ "$(apc_field REG3)" == "$4" ]
}

# run_faults PROFILE ROWS...: the three readers for every row
run_faults() {
  local profile=$1 row st1; shift
  sim_start_ctl "$profile" 1

  # ---- on the pty
  for row in "$@"; do
    row_split "$row"
    inject "$F_NAME" "$F_INJ"
    if pty_regs; then
      check_eq "$profile $F_NAME: Q" "$F_Q" "$REG_Q"
      check_eq "$profile $F_NAME: ' (trip1)" "$F_T1" "$REG_T1"
      check_eq "$profile $F_NAME: 8 (trip)" "$F_T8" "$REG_T8"
      if [ "$F_ST" == - ]; then log "$profile $F_NAME: ~ (state) = $REG_ST"
      else check_eq "$profile $F_NAME: ~ (state)" "$F_ST" "$REG_ST"; fi
    else
      fail "$profile $F_NAME: registers read on the pty"
    fi
    sim_status
    check_match "$profile $F_NAME: control status trip= is the 8 register" "^$F_T8$" "$(sim_field trip)"
    inject "$F_NAME" "$F_CLR"
    pty_regs && check_eq "$profile $F_NAME cleared: Q ' 8" "08 00 00" "$REG_Q $REG_T1 $REG_T8"
  done

  # ---- NUT
  nut_start "$SIM_DEV" pollinterval=1 || rc_abort "NUT session on $profile"
  for row in "$@"; do
    row_split "$row"
    inject "$F_NAME" "$F_INJ"
    # two polls: a change NUT reports shows by then
    wait_until 2.5 nut_status_is $F_NUT || true
    check_words "$profile $F_NAME: NUT ups.status" "$F_NUT" "$(upsc_get ups.status)"
    check_eq "$profile $F_NAME: NUT has no ups.alarm (apcsmart never reads ' 8 ~)" "" "$(upsc_get ups.alarm)"
    inject "$F_NAME" "$F_CLR"
    wait_until 5 nut_status_is OL ||
      fail "$profile $F_NAME cleared: NUT ups.status back to OL (got '$(upsc_get ups.status)')"
  done
  nut_stop

  # ---- apcupsd
  apc_start "$SIM_DEV" "${APC_CONF[@]}" || rc_abort "apcupsd session on $profile"
  for row in "$@"; do
    row_split "$row"
    inject "$F_NAME" "$F_INJ"
    st1=$F_ST
    wait_until 5 apc_regs_are "$F_APC" "$([ "$st1" == - ] && echo - || echo "0x$st1")" "0x$F_T1" "0x$F_T8" || true
    check_eq "$profile $F_NAME: apcupsd STATUS" "$F_APC" "$(apc_field STATUS)"
    check_eq "$profile $F_NAME: apcupsd REG2 (')" "0x$F_T1" "$(apc_field REG2)"
    check_eq "$profile $F_NAME: apcupsd REG3 (8)" "0x$F_T8" "$(apc_field REG3)"
    if [ "$F_ST" == - ]; then log "$profile $F_NAME: apcupsd REG1 (~) = $(apc_field REG1)"
    else check_eq "$profile $F_NAME: apcupsd REG1 (~)" "0x$F_ST" "$(apc_field REG1)"; fi
    inject "$F_NAME" "$F_CLR"
    wait_until 5 apc_regs_are ONLINE 0x00 0x00 0x00 ||
      fail "$profile $F_NAME cleared: apcupsd back to ONLINE, REG1-3 0x00 (got '$(apc_field STATUS)' $(apc_field REG1) $(apc_field REG2) $(apc_field REG3))"
  done
  apc_stop
}

run_faults matrix-ups-5000 "${MATRIX_ROWS[@]}"
sim_stop
run_faults smart-ups-1500 "${SU_ROWS[@]}"

# ---- overload when the line fails (ULS p.9: `8` bit 1, "could not
# transfer to battery because of overload"): the output goes off, and with
# the line gone the unit has no power and answers nothing.  NUT marks the
# data stale.  When the line returns the unit must still show what
# happened: output off, `8` bit 1, until it is turned on -- the story of
# scenarios/overload.yaml ("recovery by the button").
nut_start "$SIM_DEV" pollinterval=1 || rc_abort "NUT session for the overload trip"
inject overload "{overload: 130}"
wait_until 3 nut_status_is OL OVER || true
check_words "NUT ups.status, overloaded on line" "OL OVER" "$(upsc_get ups.status)"
inject "line failure" "{line: off}"
sim_status
check_eq "overload at a line failure: control status output" off "$(sim_field output)"
check_eq "overload at a line failure: control status trip (8 bit 1)" 02 "$(sim_field trip)"
check_eq "overload at a line failure: unit unpowered (alive)" no "$(sim_field alive)"
nut_stale() { upsc "$NUT_UPS" ups.status 2>&1 | grep -q "Data stale"; }
if wait_until 10 nut_stale; then
  pass "NUT: Data stale while the tripped unit has no power"
else
  fail "NUT: Data stale while the tripped unit has no power (upsc: $(upsc "$NUT_UPS" ups.status 2>&1 | tail -n1))"
fi
inject "load cut" "{load: $BASE_LOAD}"
inject "line back" "{line: on}"
sim_status
check_eq "after the line returns: output and 8 (control status) still show the trip (overload.yaml)" \
  "output=off trip=02" "output=$(sim_field output) trip=$(sim_field trip)"
nut_stop
pty_regs && check_eq "after the line returns: Q and 8 on the pty" "00 02" "$REG_Q $REG_T8"
inject "front panel" "{button: on}"
wait_until 3 sim_is output on ||
  fail "the front-panel button turns the output back on (status: $SIM_STATUS)"
pty_regs && check_eq "after the button: Q ' 8 on the pty" "08 00 00" "$REG_Q $REG_T1 $REG_T8"
sim_stop
