#!/usr/bin/env bash
# NUT `upsrw` changes survive a restart of upssim with --state:
#   - upsrw sets input.transfer.high and ups.delay.shutdown (EEPROM lists,
#     `-` cycling) and ups.id and battery.date (c/x direct entry); upsc
#     reads each back
#   - upssim is killed with SIGKILL (a power cut: no clean exit), started
#     again on the same state file: a new NUT session reports all four
#   - upssim is stopped cleanly (SIGTERM, exit 0) and started again: the
#     same; the state file holds them
#   - the state file given to another profile is refused: exit 3 and a
#     file:line:col message, and the file is left as it was
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut

sim_default_profile PROFILE
STATE=$RC_TMP/unit.state
ADMIN=(-u admin -p secret)

# the value after the factory one in a profile list
next_of() {  # VAR LIST_KEY DEFAULT_KEY
  local vals def v i
  pget vals "$PROFILE" "$2"
  pget def "$PROFILE" "$3"
  read -r -a v <<<"$vals"
  for ((i = 0; i < ${#v[@]}; i++)); do
    [ "${v[$i]}" == "$def" ] && printf -v "$1" '%s' "${v[$(((i + 1) % ${#v[@]}))]}"
  done
}
next_of NEW_U eeprom.u.values eeprom.u.default
next_of NEW_P eeprom.p.values eeprom.p.default
NEW_ID=KEEPME1
NEW_DATE=02/03/24
declare -A WANT=(
  [input.transfer.high]=$NEW_U [ups.delay.shutdown]=$NEW_P
  [ups.id]=$NEW_ID [battery.date]=$NEW_DATE
)

check_values() {  # WHEN
  local var
  for var in input.transfer.high ups.delay.shutdown ups.id battery.date; do
    check_eq "$1: upsc $var" "${WANT[$var]}" "$(upsc_get "$var")"
  done
}

# ---- 1. NUT changes four settings
sim_start "" --state "$STATE"
check_ok "upssim wrote the state file at start" test -s "$STATE"
nut_start "$SIM_DEV" || rc_abort "NUT session on $SIM_DEV"
for var in input.transfer.high ups.delay.shutdown ups.id battery.date; do
  out=$(upsrw -s "$var=${WANT[$var]}" "${ADMIN[@]}" -w -t 30 "$NUT_UPS" 2>&1 | grep -v 'Init SSL')
  check_eq "upsrw -s $var=${WANT[$var]}" SUCCESS "$out"
  is_set() { [ "$(upsc_get "$1")" == "$2" ]; }
  wait_until 15 is_set "$var" "${WANT[$var]}" ||
    fail "upsc reads $var back as ${WANT[$var]} (got '$(upsc_get "$var")')"
done
check_values "before the power cut"
nut_stop

# ---- 2. a power cut: SIGKILL, no clean exit
kill -KILL "$SIM_PID" 2>/dev/null
{ wait "$SIM_PID"; } 2>/dev/null
SIM_PID=""
log "upssim killed with SIGKILL"
check_ok "the state file holds the new upper transfer voltage" \
  grep -qx "eeprom u \"$NEW_U\"" "$STATE"
check_ok "the state file holds the new UPS ID" grep -qx "ups_id \"$NEW_ID\"" "$STATE"
sim_start "" --state "$STATE"
nut_start "$SIM_DEV" || rc_abort "NUT session after the power cut"
check_values "after SIGKILL and a restart"
nut_stop

# ---- 3. a clean stop and start
sim_stop
sim_start "" --state "$STATE"
nut_start "$SIM_DEV" || rc_abort "NUT session after a clean restart"
check_values "after SIGTERM and a restart"
nut_stop
sim_stop

# ---- 4. the file is this profile's: another profile refuses it
cp "$STATE" "$RC_TMP/before.state"
out=$("$UPSSIM_BIN" --state "$STATE" --profile smart-ups-1000-230 </dev/null 2>&1)
st=$?
check_eq "upssim --state FILE of another profile: exit status" 3 "$st"
check_match "the refusal reads file:line:col: message" \
  "^upssim: $STATE:[0-9]+:[0-9]+: this state belongs to another profile" "$out"
check_ok "the refused state file is left as it was" cmp -s "$STATE" "$RC_TMP/before.state"
