#!/usr/bin/env bash
# The test profiles of tests/profiles/ (what real units do that the shipped
# profiles do not all show) under both real clients: NUT 2.8 apcsmart and
# apcupsd must start on each and report what the unit sends, quirks
# included.  The shipped profiles run in test_all_profiles.sh.
#
#   smart-ups-vs-420-42L     `a` as captured: level "2)", unsorted list, "`"
#   smart-ups-rt-10000-xl    ^A and serial padded with spaces, b 476.18.W,
#                            B 219.2 (192 V pack), date 11/6/03, ID s0-ups0
#   recharging-after-outage  low battery on line, G L, N 092.4, B 24.80
#   two-probe-packed         undocumented T and H answer "NO,NO"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

TP=$UPSSIM_SOURCE_DIR/tests/profiles

# ---------------------------------------------------------------- v/s 42.L.I
P=$TP/smart-ups-vs-420-42L.yaml
log "=== $P"
sim_start "$P"
# NUT's parser wants "<digit>." before the alerts; "2)." sends it down its
# path for very old units, which probes readings one by one (the v/s is
# silent on all of them) and still names the unit
if nut_start "$SIM_DEV"; then
  nut_check_status "$P"
  pget want "$P" identity.serial
  check_eq "NUT[v/s 42.L.I] device.serial" "$want" "$(upsc_get device.serial)"
  pget want "$P" identity.model
  check_eq "NUT[v/s 42.L.I] device.model (^A)" "$want" "$(upsc_get device.model)"
  pget want "$P" identity.firmware_b
  check_eq "NUT[v/s 42.L.I] ups.firmware (b)" "$want" "$(upsc_get ups.firmware)"
  check_eq "NUT[v/s 42.L.I] reports no input.voltage (silent L)" "" \
    "$(upsc_get input.voltage)"
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  apc_check_status "$P"
  pget want "$P" identity.firmware_b
  check_eq "apcupsd[v/s 42.L.I] FIRMWARE" "$want" "$(apc_field FIRMWARE)"
  pget want "$P" expect.serial_trimmed
  check_eq "apcupsd[v/s 42.L.I] SERIALNO" "$want" "$(apc_field SERIALNO)"
fi
apc_stop
sim_stop

# ---------------------------------------------------------------- RT 10000 XL
P=$TP/smart-ups-rt-10000-xl.yaml
log "=== $P"
sim_start "$P"
if nut_start "$SIM_DEV"; then
  nut_check_status "$P"
  # NUT keeps the unit's trailing spaces, as its own #180 output shows
  check_eq "NUT[RT 10000 XL] device.model" "Smart-UPS RT 10000 XL   " \
    "$(upsc_get device.model)"
  check_eq "NUT[RT 10000 XL] device.serial" "B21130002653  " \
    "$(upsc_get device.serial)"
  check_eq "NUT[RT 10000 XL] ups.firmware" "476.18.W" "$(upsc_get ups.firmware)"
  check_eq "NUT[RT 10000 XL] battery.voltage" "219.2" "$(upsc_get battery.voltage)"
  check_eq "NUT[RT 10000 XL] battery.voltage.nominal" "192" \
    "$(upsc_get battery.voltage.nominal)"
  check_eq "NUT[RT 10000 XL] battery.date" "11/6/03" "$(upsc_get battery.date)"
  check_eq "NUT[RT 10000 XL] ups.id" "s0-ups0" "$(upsc_get ups.id)"
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  apc_check_status "$P"
  check_eq "apcupsd[RT 10000 XL] MODEL" "Smart-UPS RT 10000 XL" "$(apc_field MODEL)"
  check_eq "apcupsd[RT 10000 XL] SERIALNO" "B21130002653" "$(apc_field SERIALNO)"
  check_eq "apcupsd[RT 10000 XL] FIRMWARE" "476.18.W" "$(apc_field FIRMWARE)"
  check_num "apcupsd[RT 10000 XL] BATTV" 219.2 "$(apc_field BATTV | awk '{print $1}')"
  check_num "apcupsd[RT 10000 XL] NOMBATTV" 192 "$(apc_field NOMBATTV | awk '{print $1}')" 0
  check_eq "apcupsd[RT 10000 XL] BATTDATE" "11/6/03" "$(apc_field BATTDATE)"
  check_eq "apcupsd[RT 10000 XL] UPSNAME" "s0-ups0" "$(apc_field UPSNAME)"
fi
apc_stop
sim_stop

# ---------------------------------------------------------------- LB on line
P=$TP/recharging-after-outage.yaml
log "=== $P"
sim_start "$P"
if nut_start "$SIM_DEV"; then
  check_words "NUT[recharging] ups.status" "OL LB" "$(upsc_get ups.status)"
  check_eq "NUT[recharging] input.transfer.reason (G L)" "low utility voltage" \
    "$(upsc_get input.transfer.reason)"
  # N resets on every read and NUT polls it: its first read (in the trace)
  # is the one that sees the outage's low
  check_ok "NUT's first N got the start value 092.4 (upssim trace)" \
    grep -qF 'tx "092.4\r\n"' "$SIM_TRACE"
  check_num "NUT[recharging] battery.voltage (B at start)" 24.80 \
    "$(upsc_get battery.voltage)" 0.05
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  check_words "apcupsd[recharging] STATUS" "ONLINE LOWBATT" "$(apc_field STATUS)"
  check_eq "apcupsd[recharging] LASTXFER" "Low line voltage" "$(apc_field LASTXFER)"
  check_num "apcupsd[recharging] BATTV" 24.80 "$(apc_field BATTV | awk '{print $1}')" 0.05
fi
apc_stop
sim_stop

# ---------------------------------------------------------------- NO,NO
P=$TP/two-probe-packed.yaml
log "=== $P"
sim_start "$P"
if nut_start "$SIM_DEV"; then
  nut_check_status "$P"
  # NUT polls T and H as packed per-probe values (ambient.N.*); "NO" is a
  # probe that is not there, so no ambient reading may appear
  check_eq "NUT[two-probe] no ambient.1.temperature from NO,NO" "" \
    "$(upsc_get ambient.1.temperature)"
  check_eq "NUT[two-probe] battery.voltage (192 V pack)" "218.1" \
    "$(upsc_get battery.voltage)"
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  apc_check_status "$P"
  check_num "apcupsd[two-probe] BATTV" 218.1 "$(apc_field BATTV | awk '{print $1}')"
fi
apc_stop
sim_stop
