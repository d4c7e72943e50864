#!/usr/bin/env bash
# One upssim process serves three host sessions one after another on the
# same pty: NUT (apcsmart driver + upsd), then apcupsd, then NUT again.
# Each session must start and report the on-line status and the model (and
# firmware) of the profile; upssim keeps running throughout and exits
# cleanly at the end.  Each client is stopped by pid (NUT's driver dies at
# once on SIGTERM without sending R; apcupsd closes the port), so the next
# one finds the unit in whatever state the last one left it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

PROFILE=smart-ups-1500
pget MODEL "$PROFILE" identity.model
pget FIRMWARE "$PROFILE" identity.firmware_b

sim_start "$PROFILE"

nut_session() {
  local n=$1
  log "session $n: NUT"
  if nut_start "$SIM_DEV"; then
    nut_check_status "$PROFILE"
    check_eq "session $n: NUT device.model" "$MODEL" "$(upsc_get device.model)"
    check_eq "session $n: NUT ups.firmware" "$FIRMWARE" "$(upsc_get ups.firmware)"
  fi
  nut_stop
  check_ok "session $n: upssim still running after the NUT session" rc_alive "$SIM_PID"
}

apc_session() {
  local n=$1
  log "session $n: apcupsd"
  if apc_start "$SIM_DEV"; then
    apc_status
    apc_check_status "$PROFILE"
    check_eq "session $n: apcupsd MODEL" "$MODEL" "$(apc_field MODEL)"
    check_eq "session $n: apcupsd FIRMWARE" "$FIRMWARE" "$(apc_field FIRMWARE)"
  fi
  apc_stop
  check_ok "session $n: upssim still running after the apcupsd session" rc_alive "$SIM_PID"
}

nut_session 1
apc_session 2
nut_session 3

# upssim saw three separate host opens of its pty
opens=$(grep -c 'host-open' "$SIM_TRACE" || true)
log "upssim -v trace shows $opens host-open events"

sim_stop
