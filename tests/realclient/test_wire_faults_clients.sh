#!/usr/bin/env bash
# Faults of the serial line (wire faults, injected on the control socket)
# as NUT 2.8 and apcupsd 3.14 live through them; the unit itself stays on
# line throughout (default profile, real time).
#   - comms lost: NUT marks the data stale (upsc "Data stale"; driver log
#     "Communications with UPS lost", upsd log "is stale") within its read
#     timeout (3 s) and a poll; after {comms: back} it recovers (it retries
#     only every 10th poll while stale: upsdrv_updateinfo, last_worked) and
#     logs "re-established".  apcupsd declares COMMLOST after 20 s of
#     unanswered Y (smart.c COMMLOST_TIMEOUT_MS; apcaccess STATUS COMMLOST,
#     event "Communications with UPS lost.", apccontrol commfailure) and
#     after {comms: back} is ONLINE again (commok, "...restored.").
#   - silence 5 s, 3 corrupted bytes, an alert character inside a reply,
#     3 dropped bytes, noise, a reply split in two, replies 0.3 s late:
#     after each has met two of the client's polls, the client is still
#     running and reports the unit on line again (NUT ups.status OL, not
#     stale; apcupsd STATUS ONLINE).  What each did in between is logged.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

POLL=1
# name as the timeline writes it | control line | polls it must meet (a
# poll of 15-25 commands takes long with every reply late: one is enough)
TRANSIENT=(
  'silence|{wire: {silence: 5s}}|2'
  'corrupt|{wire: {corrupt: 3}}|2'
  'alert_inside|{wire: {alert_inside: "!"}}|2'
  'drop|{wire: {drop: 3}}|2'
  'garbage|{wire: {garbage: "\x00\xFFNA\r\n"}}|2'
  'split|{wire: {split: 300ms}}|2'
  'delay|{wire: {delay: 300ms}}|1'
)

# transient_faults CLIENT HEALTHY_FN WATCH_FN: every TRANSIENT fault, then
# the client must be healthy again; WATCH_FN prints what it shows now
transient_faults() {
  local client=$1 healthy=$2 watch=$3 row name line polls t0
  for row in "${TRANSIENT[@]}"; do
    IFS='|' read -r name line polls <<<"$row"
    wire_inject "$name" "$line" && wire_polled "$polls" || continue
    log "$client after $name met $polls poll(s): $("$watch")"
    t0=$EPOCHREALTIME
    if wait_until 30 "$healthy"; then
      pass "$client recovered after the wire fault $name ($(rc_elapsed "$t0")s later)"
    else
      fail "$client recovered within 30 s after the wire fault $name (now: $("$watch"))"
    fi
    if [ "$name" == delay ]; then
      wire_fault delay '{wire: {delay: 0}}'
      wait_until 15 "$healthy" || fail "$client healthy after the delay is cleared"
    fi
  done
}

sim_start_ctl "" 1

# ---- NUT
nut_start "$SIM_DEV" pollinterval=$POLL || rc_abort "NUT session"
nut_healthy() { rc_alive "$NUT_DRV_PID" && nut_status_is OL; }
nut_stale() { upsc "$NUT_UPS" ups.status 2>&1 | grep -q "Data stale"; }
nut_watch() { upsc "$NUT_UPS" ups.status 2>&1 | grep -v '^Init SSL' | tail -n1; }

wire_inject comms_lost '{wire: {comms: lost}}'
t0=$EPOCHREALTIME
if wait_seen 15 nut_stale; then
  check_range "NUT: seconds from comms lost to upsc 'Data stale' (3 s read timeout + a poll)" \
    0 "$((3 + POLL + 1))" "$(rc_elapsed "$t0")"
else
  fail "NUT: upsc reports Data stale within 15 s of comms lost (now: $(nut_watch))"
fi
check_ok "NUT driver log: Communications with UPS lost" \
  grep -q "Communications with UPS lost" "$NUT_DIR/driver.log"
check_ok "upsd log: data for the UPS is stale" grep -q "is stale" "$NUT_DIR/upsd.log"
wire_inject comms_back '{wire: {comms: back}}'
t0=$EPOCHREALTIME
if wait_seen 25 nut_healthy; then
  # stale: the driver tries again on every 10th poll only
  check_range "NUT: seconds from comms back to ups.status OL (<= 10 polls + 3 s)" \
    0 "$((10 * POLL + 3 + 1))" "$(rc_elapsed "$t0")"
else
  fail "NUT: ups.status OL again within 25 s of comms back (now: $(nut_watch))"
fi
check_ok "NUT driver log: Communications with UPS re-established" \
  grep -q "Communications with UPS re-established" "$NUT_DIR/driver.log"
check_ok "upsd log: data no longer stale" grep -q "no longer stale" "$NUT_DIR/upsd.log"

transient_faults NUT nut_healthy nut_watch
nut_stop

# ---- apcupsd
apc_start "$SIM_DEV" "POLLTIME 1" || rc_abort "apcupsd session"
apc_healthy() { rc_alive "$APC_PID" && apc_status && [ "$(apc_field STATUS)" == ONLINE ]; }
apc_watch() { apc_status; echo "STATUS '$(apc_field STATUS)'"; }

wire_inject comms_lost '{wire: {comms: lost}}'
t0=$EPOCHREALTIME
if wait_seen 40 apc_status_has COMMLOST; then
  check_range "apcupsd: seconds from comms lost to STATUS COMMLOST (20 s COMMLOST_TIMEOUT_MS)" \
    19 26 "$(rc_elapsed "$t0")"
else
  fail "apcupsd: STATUS COMMLOST within 40 s of comms lost (now: $(apc_watch))"
fi
check_ok "apcupsd events: Communications with UPS lost." \
  grep -q "Communications with UPS lost." "$APC_EVENTS"
check_ok "apccontrol commfailure" grep -q "apccontrol commfailure" "$APC_CONTROL_LOG"
wire_inject comms_back '{wire: {comms: back}}'
t0=$EPOCHREALTIME
if wait_seen 20 apc_healthy; then
  check_range "apcupsd: seconds from comms back to STATUS ONLINE" 0 10 "$(rc_elapsed "$t0")"
else
  fail "apcupsd: STATUS ONLINE again within 20 s of comms back (now: $(apc_watch))"
fi
apc_commok() { grep -q "apccontrol commok" "$APC_CONTROL_LOG"; }
wait_until 5 apc_commok || true
check_ok "apccontrol commok" apc_commok
check_ok "apcupsd events: Communications with UPS restored." \
  grep -q "Communications with UPS restored." "$APC_EVENTS"

transient_faults apcupsd apc_healthy apc_watch
log "apcupsd events during the transient faults:"
sed 's/^/#   /' "$APC_CONTROL_LOG"
apc_stop
sim_stop
