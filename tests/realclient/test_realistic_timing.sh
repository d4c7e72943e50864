#!/usr/bin/env bash
# NUT and apcupsd against `upssim --realistic-timing`: 60 ms before every
# reply and 2400 bit/s on the wire, as a real unit answers.  Both clients
# must still start and report the profile's values, and the byte trace
# must show the delay (tx at least 50 ms after the rx it answers).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

PROFILE=smart-ups-1500
pget MODEL "$PROFILE" identity.model
pget HIGH "$PROFILE" eeprom.u.default

sim_start "$PROFILE" --realistic-timing

# With slow replies the hosts pass through transient states that an
# instant UPS hides: NUT's upsd says WAIT until the driver's first dump,
# and apcupsd shows REPLACEBATT from the `#` opening the ^Z reply until
# its next Q.  Wait (with a deadline) for the settled state.
nut_settled() { [ "$(upsc_get ups.status)" = OL ] && [ -n "$(upsc_get input.transfer.high)" ]; }
apc_settled() {
  apc_status
  [ "$(apc_field STATUS)" = ONLINE ] && [ -n "$(apc_field MODEL)" ]
}

log "NUT"
if nut_start "$SIM_DEV"; then
  t0=$(rc_now)
  check_ok "NUT settles on OL with its variables within 30 s" wait_until 30 nut_settled
  log "NUT settled after $(rc_elapsed "$t0")s"
  nut_check_status "$PROFILE"
  check_eq "NUT device.model" "$MODEL" "$(upsc_get device.model)"
  check_eq "NUT input.transfer.high" "$HIGH" "$(upsc_get input.transfer.high)"
fi
nut_stop

log "apcupsd"
if apc_start "$SIM_DEV"; then
  t0=$(rc_now)
  check_ok "apcupsd settles on ONLINE with MODEL within 90 s" wait_until 90 apc_settled
  log "apcupsd settled after $(rc_elapsed "$t0")s"
  apc_status
  apc_check_status "$PROFILE"
  check_eq "apcupsd MODEL" "$MODEL" "$(apc_field MODEL)"
fi
apc_stop

# every reply left at least 50 ms after the byte that asked for it
gaps=$(awk '$2 == "rx" { t = $1 } $2 == "tx" && t != "" { printf "%d\n", ($1 - t) * 1000; t = "" }' "$SIM_TRACE")
n=$(printf '%s\n' "$gaps" | grep -c . || true)
short=$(printf '%s\n' "$gaps" | awk 'NF && $1 < 50' | wc -l)
log "trace: $n replies, $short sooner than 50 ms"
check_ok "trace shows replies" test "$n" -gt 50
check_eq "replies sooner than the 60 ms delay (minus jitter)" 0 "$short"

sim_stop
