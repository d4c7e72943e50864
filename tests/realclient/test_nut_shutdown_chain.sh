#!/usr/bin/env bash
# NUT's whole power-fail chain against the scenario
# scenarios/outage-shutdown-chain.yaml (upssim --scenario, --speed 10):
# apcsmart driver (pollinterval 1) + upsd + upsmon as primary (MINSUPPLIES
# 1, POLLFREQ/POLLFREQALERT 1, FINALDELAY 0, a SHUTDOWNCMD that only
# records that it ran, POWERDOWNFLAG in the temp dir).
#   - ups.status OL, then OB within one driver poll (pollinterval + 0.5 s
#     for upsc) of the line failing in the scenario, then OB LB within one
#     poll of the low-battery point (runtime = the `q` minutes); the
#     timeline CSV gives the scenario time of each, converted to wall time
#   - upsmon notifies ONBATT, LOWBATT, SHUTDOWN in that order, sets FSD,
#     runs SHUTDOWNCMD, creates POWERDOWNFLAG (`upsmon -K` exits 0)
#   - "the system goes down": upsmon, upsd and the driver stop; then
#     `upsdrvctl shutdown` (the driver's -k with the same ups.conf) sends S;
#     the output goes off the `p` delay later (timeline, control status)
#   - the line returns ({line: on} on the control socket); the unit, below
#     its `e` capacity, recharges and restarts `r` after reaching it
#   - a fresh NUT driver reports ups.status OL and the delays p and r and
#     the restart capacity e the scenario set
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut upsmon

SCEN=$RC_LIB_DIR/scenarios/outage-shutdown-chain.yaml
SPEED=10          # model time runs 10x: 1 scenario minute = 6 s
POLL=1            # NUT driver pollinterval (s)
MAXLAG=$(python3 -c "print($POLL + 0.5)")   # one poll, plus upsc polling
sget Q_MIN "$SCEN" eeprom.q.default
sget P "$SCEN" eeprom.p.default
sget R "$SCEN" eeprom.r.default
sget E "$SCEN" eeprom.e.default

sim_start_ctl "" "$SPEED" --scenario "$SCEN"
nut_start "$SIM_DEV" pollinterval=$POLL || rc_abort "NUT session on $SIM_DEV"
nut_upsmon_start || rc_abort "upsmon watching $NUT_UPS"

# ---- 1. on line, and NUT is up before the scenario's outage
check_words "NUT ups.status before the outage" "OL" "$(upsc_get ups.status)"
if T=$(tl_first 'event~^event line$'); then
  rc_abort "NUT and upsmon were up before the outage (the line already failed at t=$T)"
fi
log "NUT and upsmon ready at scenario t=$(sim_scen_of "$EPOCHREALTIME") s"

# ---- 2. OL -> OB -> OB LB, each within one poll
expect_seen "NUT OL -> OB" 60 "$MAXLAG" nut_status_is OB -- \
  'event~^event line$' 'Q&0x18=0x10' || rc_abort "NUT saw the outage"
T_OB=$SEEN_T
expect_seen "NUT OB -> OB LB" 120 "$MAXLAG" nut_status_has OB LB -- \
  --after "$T_OB" 'Q&0x50=0x50' || rc_abort "NUT saw low battery"
T_LB=$SEEN_T
check_num "runtime left at low battery (profile q, minutes)" "$((10#$Q_MIN))" \
  "$(tl_at "$T_LB" runtime_min)" 0.1
log "outage at t=$T_OB s, low battery at t=$T_LB s (scenario time)"

# ---- 3. upsmon: FSD, SHUTDOWNCMD, POWERDOWNFLAG
if wait_until 20 test -e "$NUT_MON_RAN"; then
  pass "upsmon ran SHUTDOWNCMD ($(rc_elapsed)s into the test)"
else
  rc_tail "$NUT_DIR/upsmon.log"
  fail "upsmon ran SHUTDOWNCMD within 20 s of low battery"
fi
check_ok "ups.status shows FSD (set by upsmon as primary) with OB LB" nut_status_has FSD OB LB
check_ok "upsmon created POWERDOWNFLAG" test -e "$NUT_MON_PDFLAG"
check_ok "upsmon -K: the power-down flag is set" nut_powerdown_flag_set
# (the order upsmon issued them in: see nut_upsmon_notified)
check_eq "upsmon notifications through NOTIFYCMD, in the order upsmon issued them" \
  "ONBATT LOWBATT SHUTDOWN" "$(nut_upsmon_notified ONBATT LOWBATT SHUTDOWN ONLINE)"

# ---- 4. the system goes down: NUT stops, then upsdrvctl shutdown (-k)
nut_upsmon_stop
nut_stop
nut_killpower
check_eq "upsdrvctl shutdown exit status" 0 "$?"
check_ok "the driver's -k initiated the UPS shutdown (upsdrvctl log)" \
  grep -q "Initiating UPS shutdown" "$NUT_KILL_LOG"
# apcsmart.c upsdrv_shutdown: Y, Q, then (on battery) S; OK acknowledges
check_ok "the driver's -k on the wire: S -> OK (upssim trace)" \
  trace_has_seq 'rx "S"' 'tx "OK\r\n"'

# ---- 5. output off after p; line back; restart after e and r
check_unit_off_and_back "$SCEN" "$T_LB"

# ---- 6. a fresh NUT driver sees the unit on line again
nut_start "$SIM_DEV" pollinterval=$POLL || rc_abort "fresh NUT session after the restart"
check_words "fresh NUT ups.status" "OL" "$(upsc_get ups.status)"
check_num "fresh NUT ups.delay.shutdown (scenario p)" "$((10#$P))" "$(upsc_get ups.delay.shutdown)" 0
check_num "fresh NUT ups.delay.start (scenario r)" "$((10#$R))" "$(upsc_get ups.delay.start)" 0
check_num "fresh NUT battery.charge.restart (scenario e)" "$((10#$E))" "$(upsc_get battery.charge.restart)" 0
nut_stop
sim_stop
