#!/usr/bin/env bash
# apcupsd 3.14's whole power-fail chain against the scenario
# scenarios/outage-shutdown-chain.yaml (upssim --scenario, --speed 10).
# apcupsd polls every second (POLLTIME 1), confirms battery operation after
# ONBATTERYDELAY 2 s, and shuts down only on the UPS's low-battery signal
# (BATTERYLEVEL/MINUTES 0, TIMEOUT 0); its apccontrol is a stub in the temp
# dir that records each event it is called for and shuts nothing down.
#   - apcaccess STATUS ONLINE, then ONBATT within a second (POLLTIME) of
#     the line failing in the scenario, then ONBATT LOWBATT within a second
#     of the low-battery point (runtime = the `q` minutes)
#   - apccontrol is called for powerout, onbattery, failing, doshutdown in
#     that order; the events file has the matching messages; STATUS turns
#     to SHUTTING DOWN and the powerfail file appears in PWRFAILDIR
#   - "the system goes down": apcupsd stops; then `apcupsd --killpower`
#     (what apccontrol killpower runs) reads `p`, sends S and reports the
#     unit will power off after p seconds; the output goes off p later
#   - the line returns ({line: on} on the control socket); the unit, below
#     its `e` capacity, recharges and restarts `r` after reaching it
#   - a fresh apcupsd session: STATUS ONLINE, DSHUTD p, DWAKE r, RETPCT e;
#     then a short outage of its own: powerout, ONBATT, onbattery, and when
#     the line returns ONLINE and mainsback (the first session was stopped
#     before the line came back, as a shut-down host is, so it cannot
#     report mainsback itself)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients apcupsd

SCEN=$RC_LIB_DIR/scenarios/outage-shutdown-chain.yaml
SPEED=10
APC_CONF=("POLLTIME 1" "ONBATTERYDELAY 2" "BATTERYLEVEL 0" "MINUTES 0" "TIMEOUT 0")
MAXLAG=1.5        # POLLTIME 1 (and apcupsd re-polls at once on ! and %), + apcaccess polling
sget Q_MIN "$SCEN" eeprom.q.default
sget P "$SCEN" eeprom.p.default
sget R "$SCEN" eeprom.r.default
sget E "$SCEN" eeprom.e.default

sim_start_ctl "" "$SPEED" --scenario "$SCEN"
apc_start "$SIM_DEV" "${APC_CONF[@]}" || rc_abort "apcupsd session on $SIM_DEV"

# ---- 1. on line, and apcupsd is up before the scenario's outage
apc_status
check_words "apcupsd STATUS before the outage" "ONLINE" "$(apc_field STATUS)"
if T=$(tl_first 'event~^event line$'); then
  rc_abort "apcupsd was up before the outage (the line already failed at t=$T)"
fi

# ---- 2. ONLINE -> ONBATT -> ONBATT LOWBATT
expect_seen "apcupsd ONLINE -> ONBATT" 60 "$MAXLAG" apc_status_has ONBATT -- \
  'event~^event line$' 'Q&0x18=0x10' || rc_abort "apcupsd saw the outage"
T_OB=$SEEN_T
# LOWBATT shows until apcupsd acts on it 5 s later (SHUTTING DOWN overrides
# every other word of STATUS, apcstatus.c)
expect_seen "apcupsd ONBATT -> ONBATT LOWBATT" 120 "$MAXLAG" apc_status_has ONBATT LOWBATT -- \
  --after "$T_OB" 'Q&0x50=0x50' || rc_abort "apcupsd saw low battery"
T_LB=$SEEN_T
check_num "runtime left at low battery (profile q, minutes)" "$((10#$Q_MIN))" \
  "$(tl_at "$T_LB" runtime_min)" 0.1

# ---- 3. failing -> doshutdown
# apc_event_msgs: the event messages of apcaction.c event_msg[] in the
# events file, in order, joined with |
apc_event_msgs() {
  grep -oE 'Power failure\.|Running on UPS batteries\.|Battery power exhausted\.|Initiating system shutdown!|Mains returned\. No longer on UPS batteries\.|Power is back\. UPS running on mains\.|Communications with UPS (lost|restored)\.' \
    "$APC_EVENTS" | paste -sd'|'
}
apc_events_done() { grep -q 'apccontrol doshutdown' "$APC_CONTROL_LOG" 2>/dev/null; }
if wait_until 20 apc_events_done; then
  pass "apcupsd called apccontrol doshutdown"
else
  rc_tail "$APC_DIR/apcupsd.log"
  fail "apcupsd called apccontrol doshutdown within 20 s of low battery"
fi
# apcupsd starts apccontrol without waiting for it, so two events it runs
# together (failing, doshutdown) may log in either order: the set here, the
# order from the events file apcupsd writes itself (apcaction.c event_msg[])
check_words "apccontrol events" "powerout onbattery failing doshutdown" \
  "$(awk '{ print $3 }' "$APC_CONTROL_LOG")"
check_eq "events file messages, in order" \
  "Power failure.|Running on UPS batteries.|Battery power exhausted.|Initiating system shutdown!" \
  "$(apc_event_msgs)"
wait_until 5 apc_status_has "SHUTTING DOWN" || true
check_eq "apcupsd STATUS after doshutdown" "SHUTTING DOWN" "$(apc_field STATUS)"
check_ok "apcupsd made its powerfail file (PWRFAILDIR)" test -e "$APC_DIR/run/powerfail"

# ---- 4. the system goes down: apcupsd stops, then apcupsd --killpower
apc_stop
apc_killpower
check_eq "apcupsd --killpower exit status" 0 "$?"
# smartoper.c kill_power: read the shutdown delay, then S; OK acknowledges
check_ok "apcupsd --killpower on the wire: p -> $P, S -> OK (upssim trace)" \
  trace_has_seq 'rx "p"' "tx \"$P\\r\\n\"" 'rx "S"' 'tx "OK\r\n"'

# ---- 5. output off after p; line back; restart after e and r
check_unit_off_and_back "$SCEN" "$T_LB"

# ---- 6. a fresh apcupsd session, and a short outage it sees end
apc_start "$SIM_DEV" "${APC_CONF[@]}" || rc_abort "fresh apcupsd session after the restart"
apc_status
check_words "fresh apcupsd STATUS" "ONLINE" "$(apc_field STATUS)"
check_num "fresh apcupsd DSHUTD (scenario p)" "$((10#$P))" "$(apc_field DSHUTD)" 0
check_num "fresh apcupsd DWAKE (scenario r)" "$((10#$R))" "$(apc_field DWAKE)" 0
check_num "fresh apcupsd RETPCT (scenario e)" "$((10#$E))" "$(apc_field RETPCT)" 0

T0=$(sim_scen_of "$EPOCHREALTIME")
check_eq "control {line: off}" ok "$(sim_ctl '{line: off}')"
expect_seen "fresh apcupsd ONLINE -> ONBATT" 15 "$MAXLAG" apc_status_has ONBATT -- \
  --after "$T0" 'event~^event line$' 'Q&0x18=0x10'
apc_onbattery() { grep -q 'apccontrol onbattery' "$APC_CONTROL_LOG" 2>/dev/null; }
wait_until 15 apc_onbattery || fail "fresh apcupsd called apccontrol onbattery (ONBATTERYDELAY 2 s)"
T1=$(sim_scen_of "$EPOCHREALTIME")
check_eq "control {line: on}" ok "$(sim_ctl '{line: on}')"
expect_seen "fresh apcupsd ONBATT -> ONLINE" 15 "$MAXLAG" apc_status_has ONLINE -- \
  --after "$T1" 'event~^event line$' 'Q&0x18=0x08'
apc_mainsback() { grep -q 'apccontrol mainsback' "$APC_CONTROL_LOG" 2>/dev/null; }
wait_until 10 apc_mainsback || true
check_words "fresh apcupsd apccontrol events" "powerout onbattery offbattery mainsback" \
  "$(awk '{ print $3 }' "$APC_CONTROL_LOG")"
check_eq "fresh apcupsd events file messages, in order" \
  "Power failure.|Running on UPS batteries.|Mains returned. No longer on UPS batteries.|Power is back. UPS running on mains." \
  "$(apc_event_msgs)"
apc_stop
sim_stop
