#!/usr/bin/env bash
# Two more profiles under both real clients (a fresh upssim per profile;
# NUT first, then apcupsd on the same pty):
#   smart-ups-1000-230  3G Smart-UPS, 230 V: every value NUT and apcupsd
#                       report (lib.sh NUT_VALUES / APC_VALUES: 230 V line,
#                       the 230 V transfer points, model, firmware ...) must
#                       be the profile's, and the transfer-point enums hold
#                       the profile's 230 V lists
#   smart-ups-vs-420    Smart-UPS v/s: silent on commands it lacks and has
#                       no analog readings; both clients must start, report
#                       the on-line status and the identity it does answer,
#                       any other value they report must be the profile's,
#                       and they report no reading the unit never answers
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

# upsrw_enum VAR: the Option values upsrw lists for VAR, space separated
upsrw_enum() {
  upsrw "$NUT_UPS" 2>/dev/null |
    awk -v v="[$1]" '$0 == v {on=1; next} /^\[/ {on=0} on' |
    sed -n 's/^Option: "\([^"]*\)".*/\1/p' | tr '\n' ' '
}

# ---------------------------------------------------------------- 230 V
P=smart-ups-1000-230
log "=== $P"
sim_start "$P"
if nut_start "$SIM_DEV"; then
  nut_check_status "$P"
  check_reported "NUT[$P]" "$P" upsc_get all "${NUT_VALUES[@]}"
  pget UV "$P" eeprom.u.values
  pget LV "$P" eeprom.l.values
  check_words "NUT[$P] upsrw input.transfer.high options" "$UV" "$(upsrw_enum input.transfer.high)"
  check_words "NUT[$P] upsrw input.transfer.low options" "$LV" "$(upsrw_enum input.transfer.low)"
  pget O_DEF "$P" eeprom.o.default
  check_num "NUT[$P] output.voltage.nominal (profile eeprom.o)" "$O_DEF" "$(upsc_get output.voltage.nominal)" 0
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  apc_check_status "$P"
  check_reported "apcupsd[$P]" "$P" apc_field all "${APC_VALUES[@]}"
  pget O_DEF "$P" eeprom.o.default
  check_num "apcupsd[$P] NOMOUTV (profile eeprom.o)" "$O_DEF" "$(apc_field NOMOUTV)" 0
fi
apc_stop
sim_stop

# ---------------------------------------------------------------- v/s
P=smart-ups-vs-420
log "=== $P"
sim_start "$P"
# what a v/s answers (profile: ^A, b, n, Q ...); everything else is checked
# only if the client reports it
NUT_REQUIRED="device.model ups.firmware device.serial"
APC_REQUIRED="MODEL FIRMWARE SERIALNO"
# readings the v/s never answers (profile: "no reply at all to commands it
# lacks (B C E F L M N O P V c e f g ...)"), so no client may show them
NUT_ABSENT="input.voltage output.voltage ups.load ups.temperature battery.charge battery.voltage input.frequency"
APC_ABSENT="LINEV OUTPUTV LOADPCT ITEMP BCHARGE BATTV LINEFREQ"
if nut_start "$SIM_DEV"; then
  nut_check_status "$P"
  check_reported "NUT[$P]" "$P" upsc_get "$NUT_REQUIRED" "${NUT_VALUES[@]}"
  for v in $NUT_ABSENT; do
    got=$(upsc_get "$v")
    check_eq "NUT[$P] reports no $v (the v/s has no such reading)" "" "$got"
  done
fi
nut_stop
if apc_start "$SIM_DEV"; then
  apc_status
  apc_check_status "$P"
  # UPSNAME: apcupsd shows the host name when the UPS has no `c` (the v/s
  # has none), so it is not a value of the unit: leave that row out
  rows=()
  for r in "${APC_VALUES[@]}"; do [[ $r == UPSNAME\|* ]] || rows+=("$r"); done
  check_reported "apcupsd[$P]" "$P" apc_field "$APC_REQUIRED" "${rows[@]}"
  for v in $APC_ABSENT; do
    check_eq "apcupsd[$P] reports no $v (the v/s has no such reading)" "" "$(apc_field "$v")"
  done
fi
apc_stop
sim_stop
