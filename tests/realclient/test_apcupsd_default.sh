#!/usr/bin/env bash
# apcupsd 3.14 (UPSTYPE apcsmart) + apcaccess + apctest against upssim's
# default profile.
#   - apcaccess status: STATUS ONLINE and MODEL, FIRMWARE, LINEV, BCHARGE,
#     TIMELEFT, HITRANS, LOTRANS (and the other fields in lib.sh APC_VALUES)
#     as the profile says
#   - apctest, menu answers piped in, EEPROM menu (5): "Change low transfer
#     voltage" to the profile's next `l` value and "Change UPS name"; apctest
#     reports the new values, its own "Print EEPROM values" shows them, and a
#     fresh apcupsd session reports them through apcaccess
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients apcupsd

# upssim's default profile: started without --profile; the expectations
# come from the profile --list-profiles marks as default (smart-ups-1500)
sim_default_profile PROFILE
NEW_NAME=RCTEST1

sim_start ""

# ---- 1. apcupsd status
apc_start "$SIM_DEV" || rc_abort "apcupsd session on $SIM_DEV"
apc_status
apc_check_status "$PROFILE"
check_reported apcupsd "$PROFILE" apc_field all "${APC_VALUES[@]}"
apc_stop

# ---- 2. apctest EEPROM programming: low transfer voltage and UPS name
pget L_VALUES "$PROFILE" eeprom.l.values
pget L_DEFAULT "$PROFILE" eeprom.l.default
pget U_DEFAULT "$PROFILE" eeprom.u.default
pget OLD_NAME "$PROFILE" expect.ups_id
read -r -a lv <<<"$L_VALUES"
NEW_L=""
for ((i = 0; i < ${#lv[@]}; i++)); do
  [ "${lv[$i]}" == "$L_DEFAULT" ] && NEW_L=${lv[$(((i + 1) % ${#lv[@]}))]}
done
if [ -z "$NEW_L" ] || [ "$NEW_L" == "$L_DEFAULT" ]; then
  rc_abort "profile $PROFILE has a second eeprom.l value to set"
fi
[ "$NEW_NAME" != "$OLD_NAME" ] || NEW_NAME=RCTEST2
NEW_L_NUM=$((10#$NEW_L))
log "apctest: EEPROM menu 5, low transfer $L_DEFAULT -> $NEW_L_NUM, UPS name $OLD_NAME -> $NEW_NAME"

# 5 = Program EEPROM; 9 = low transfer voltage, 3 = UPS name,
# 1 = print EEPROM values; Q leaves the EEPROM menu, Q quits apctest
T=$RC_TMP/apctest-eeprom.txt
t0=$(rc_now)
apctest_run "$SIM_DEV" "$T" $'5\n9\n'"$NEW_L_NUM"$'\n3\n'"$NEW_NAME"$'\n1\nQ\nQ\n' 240
st=$?
log "apctest EEPROM session took $(rc_elapsed "$t0")s (exit status $st)"
check_eq "apctest exit status" 0 "$st"
check_ok "apctest found the UPS (SMART test mode)" grep -q "entering SMART test mode" "$T"

check_num "apctest: old lower transfer voltage (profile default)" "$L_DEFAULT" \
  "$(sed -n 's/^The old UPS lower transfer voltage is: *//p' "$T" | head -n1)" 0
check_num "apctest: new lower transfer voltage" "$NEW_L_NUM" \
  "$(sed -n 's/^The new UPS lower transfer voltage is: *//p' "$T" | head -n1)" 0
check_eq "apctest: old UPS name (profile ups_id)" "$OLD_NAME" \
  "$(sed -n 's/^The old UPS name is: *//p' "$T" | head -n1 | sed 's/ *$//')"
check_eq "apctest: new UPS name" "$NEW_NAME" \
  "$(sed -n 's/^The new UPS name is: *//p' "$T" | head -n1 | sed 's/ *$//')"
# apctest's own read back ("1) Print EEPROM values", after the changes)
table=$(sed -n '/^Valid EEPROM values/,/^UPS Name/p' "$T")
check_num "apctest EEPROM table: LOTRANSFER" "$NEW_L_NUM" \
  "$(awk '$0 ~ /LOTRANSFER/ { print $5; exit }' <<<"$table")" 0
check_num "apctest EEPROM table: HITRANSFER unchanged" "$U_DEFAULT" \
  "$(awk '$0 ~ /HITRANSFER/ { print $5; exit }' <<<"$table")" 0
check_words "apctest EEPROM table: LOTRANSFER permitted values (profile)" "$L_VALUES" \
  "$(awk '$0 ~ /LOTRANSFER/ { for (i = 6; i <= NF; i++) printf "%s ", $i; exit }' <<<"$table")"
check_eq "apctest EEPROM table: UPS Name" "$NEW_NAME" \
  "$(sed -n 's/^UPS Name *: *//p' <<<"$table" | sed 's/ *$//')"
if grep -qiE 'error|fail|retries exceeded' "$T"; then
  fail "apctest reported no error"
  grep -niE 'error|fail|retries exceeded' "$T" | sed 's/^/#   /'
else
  pass "apctest reported no error"
fi

# ---- 3. a fresh apcupsd session reads the new values from the UPS
apc_start "$SIM_DEV" || rc_abort "second apcupsd session on $SIM_DEV"
apc_status
apc_check_status "$PROFILE"
check_num "fresh apcupsd LOTRANS" "$NEW_L_NUM" "$(apc_field LOTRANS)" 0
check_eq "fresh apcupsd UPSNAME" "$NEW_NAME" "$(apc_field UPSNAME)"
check_num "fresh apcupsd HITRANS unchanged" "$U_DEFAULT" "$(apc_field HITRANS)" 0
pget MODEL "$PROFILE" identity.model
check_eq "fresh apcupsd MODEL" "$MODEL" "$(apc_field MODEL)"
apc_stop

sim_stop
