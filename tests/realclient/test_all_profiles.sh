#!/usr/bin/env bash
# Every other shipped profile under both real clients (the default, 230 V
# and v/s ones have their own tests): a fresh upssim per profile, NUT then
# apcupsd on the same pty.  Both clients must start and report the
# profile's on-line status; every value they report must be the profile's
# (a unit without a command simply leaves that value out).  Settings are
# expected at their value at start (eeprom `current`, else the factory
# value).  RC_PROFILES=a,b limits the run (debugging).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

# Expectations for any model: the firmware hosts show is `b`, or `V` on
# units without `b`; a setting the unit has no list for answers NO (Matrix
# l), which the clients pass on; apcaccess values are read with their
# trailing blanks cut (apc_field), so a serial padded with spaces (an RT
# answers "NS0706016624  ") is compared without them there.  NUT's
# device.model is checked apart.
rows() {
  local r
  for r in "$@"; do
    r=${r/|identity.firmware_b/|expect.firmware}
    r=${r/|eeprom.u.default/|expect.setting.u}
    r=${r/|eeprom.l.default/|expect.setting.l}
    r=${r/|eeprom.p.default/|expect.setting.p}
    r=${r/SERIALNO|str|identity.serial/SERIALNO|str|expect.serial_trimmed}
    case $r in device.model\|*|MODEL\|*) continue ;; esac
    if [ "$HAS_L" != yes ]; then
      case $r in input.transfer.low\|*|LOTRANS\|*) continue ;; esac
    fi
    printf '%s\n' "$r"
  done
}

# Units that do not answer ^A, or that NUT knows from `V` (its
# compatibility table, e.g. a Matrix), are named by the client itself:
# NUT uses a family name ("Matrix-UPS"), apcupsd its V-code table name
# ("APC Smart-UPS 400").  Accept the profile's model exactly, or the
# client's name for it: equal to it, or a prefix of it, ignoring case
# and a leading "APC ".
model_check() {
  local client=$1 want=$2 got=$3 g w
  g=${got,,}; g=${g#apc }; w=${want,,}
  if [ "$got" = "$want" ]; then
    pass "$client model = '$got'"
  elif [ -n "$g" ] && [[ "$w" == "$g"* ]]; then
    pass "$client model '$got' is the client's name for '$want'"
  else
    fail "$client model: expected '$want' (or the client's name for it), got '$got'"
  fi
}

# A unit without an `l` list answers NO (ULS p.18: Matrix-UPS): NUT
# passes the word on, apcupsd reads it as 0.
no_l_check() {
  check_eq "NUT[$1] input.transfer.low (unit answers NO)" NO "$(upsc_get input.transfer.low)"
}
no_l_check_apc() {
  check_num "apcupsd[$1] LOTRANS (NO read as 0)" 0 "$(apc_field LOTRANS)" 0
}

mapfile -t ALL < <("$UPSSIM_BIN" --list-profiles | awk '{ print $1 }')
check_ok "upssim lists its profiles" test "${#ALL[@]}" -ge 10
# RC_SHARD=i/n: this run takes every n-th profile from the i-th (ctest runs
# the shards in parallel, see tests/CMakeLists.txt)
SHARD_I=1 SHARD_N=1
if [ -n "${RC_SHARD:-}" ]; then SHARD_I=${RC_SHARD%/*}; SHARD_N=${RC_SHARD#*/}; fi
IDX=0
for P in "${ALL[@]}"; do
  case $P in smart-ups-1500|smart-ups-1000-230|smart-ups-vs-420) continue ;; esac
  IDX=$((IDX + 1))
  [ $(( (IDX - 1) % SHARD_N + 1 )) -eq "$SHARD_I" ] || continue
  if [ -n "${RC_PROFILES:-}" ] && [[ ",$RC_PROFILES," != *",$P,"* ]]; then
    continue
  fi
  log "=== $P"
  pget HAS_L "$P" has.eeprom.l
  # does the unit answer `l` at all? (the binary's command table says)
  L_ANSWERED=$("$UPSSIM_BIN" --list-commands --profile "$P" |
               awk -F'|' '$2 ~ /`l`/ { gsub(/ /, "", $8); print $8 }')
  [ "$L_ANSWERED" = yes ] || HAS_L=unanswered
  pget MODEL "$P" identity.model
  mapfile -t nut_rows < <(rows "${NUT_VALUES[@]}")
  mapfile -t apc_rows < <(rows "${APC_VALUES[@]}")
  sim_start "$P"
  if nut_start "$SIM_DEV"; then
    nut_check_status "$P"
    model_check "NUT[$P]" "$MODEL" "$(upsc_get device.model)"
    [ "$HAS_L" = no ] && no_l_check "$P"
    check_reported "NUT[$P]" "$P" upsc_get "ups.firmware" "${nut_rows[@]}"
  fi
  nut_stop
  if apc_start "$SIM_DEV"; then
    apc_status
    apc_check_status "$P"
    model_check "apcupsd[$P]" "$MODEL" "$(apc_field MODEL)"
    [ "$HAS_L" = no ] && no_l_check_apc "$P"
    check_reported "apcupsd[$P]" "$P" apc_field "FIRMWARE" "${apc_rows[@]}"
  fi
  apc_stop
  sim_stop
done
