#!/usr/bin/env bash
# NUT 2.8 apcsmart driver + upsd against upssim's default profile.
#   - the driver starts; upsc shows ups.status OL and the identity, readings
#     and transfer points of the profile (lib.sh NUT_VALUES)
#   - upsrw lists input.transfer.high as an ENUM whose options are exactly
#     the profile's `u` values, the factory one selected; upsrw -s sets
#     another one and upsc reads it back
#   - upscmd test.battery.start: the unit goes on battery for the test and
#     ups.test.result changes to the passed result
#   - upscmd shutdown.stayoff (K..K): ups.status becomes OFF after the
#     profile's shutdown delay `p` (the time it took is printed and bounded)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut

# upssim's default profile: started without --profile; the expectations
# come from the profile --list-profiles marks as default (smart-ups-1500)
sim_default_profile PROFILE
ADMIN=(-u admin -p secret)

sim_start ""
nut_start "$SIM_DEV" || rc_abort "NUT session on $SIM_DEV"

# ---- 1. status, identity and readings
nut_check_status "$PROFILE"
check_reported NUT "$PROFILE" upsc_get all "${NUT_VALUES[@]}"

# ---- 2. upsrw: input.transfer.high is an enum of the profile's u values
pget U_VALUES "$PROFILE" eeprom.u.values
pget U_DEFAULT "$PROFILE" eeprom.u.default
upsrw "$NUT_UPS" >"$RC_TMP/upsrw.txt" 2>/dev/null
block=$(awk '/^\[input.transfer.high\]$/{on=1; next} /^\[/{on=0} on' "$RC_TMP/upsrw.txt")
if [ -z "$block" ]; then
  fail "upsrw lists input.transfer.high"
  rc_tail "$RC_TMP/upsrw.txt" 60
else
  pass "upsrw lists input.transfer.high"
  check_match "upsrw input.transfer.high type" "^ENUM( |$)" "$(sed -n 's/^Type: //p' <<<"$block")"
  options=$(sed -n 's/^Option: "\([^"]*\)".*/\1/p' <<<"$block" | tr '\n' ' ')
  check_words "upsrw input.transfer.high options (profile eeprom.u.values)" "$U_VALUES" "$options"
  check_eq "upsrw input.transfer.high option count" "$(wc -w <<<"$U_VALUES")" "$(wc -w <<<"$options")"
  check_eq "upsrw input.transfer.high SELECTED (profile default)" "$U_DEFAULT" \
    "$(sed -n 's/^Option: "\([^"]*\)" SELECTED.*/\1/p' <<<"$block")"
fi

# set the value after the factory one in the profile's list
read -r -a uv <<<"$U_VALUES"
NEW_U=""
for ((i = 0; i < ${#uv[@]}; i++)); do
  [ "${uv[$i]}" == "$U_DEFAULT" ] && NEW_U=${uv[$(((i + 1) % ${#uv[@]}))]}
done
if [ -z "$NEW_U" ] || [ "$NEW_U" == "$U_DEFAULT" ]; then
  fail "profile $PROFILE has a second eeprom.u value to set"
else
  log "upsrw -s input.transfer.high=$NEW_U"
  out=$(upsrw -s "input.transfer.high=$NEW_U" "${ADMIN[@]}" -w -t 30 "$NUT_UPS" 2>&1 | grep -v 'Init SSL')
  check_eq "upsrw -s input.transfer.high=$NEW_U result" "SUCCESS" "$out"
  u_is_new() { [ "$(upsc_get input.transfer.high)" == "$NEW_U" ]; }
  if wait_until 15 u_is_new; then
    pass "upsc reads input.transfer.high back as $NEW_U"
  else
    fail "upsc reads input.transfer.high back as $NEW_U (got '$(upsc_get input.transfer.high)')"
  fi
  upsrw "$NUT_UPS" 2>/dev/null | awk '/^\[input.transfer.high\]$/{on=1; next} /^\[/{on=0} on' >"$RC_TMP/upsrw2.txt"
  check_eq "upsrw input.transfer.high SELECTED after the change" "$NEW_U" \
    "$(sed -n 's/^Option: "\([^"]*\)" SELECTED.*/\1/p' "$RC_TMP/upsrw2.txt")"
fi

# ---- 3. battery self-test (W): on battery for the test, then a result
pget SELFTEST_MS "$PROFILE" timing.selftest
before=$(upsc_get ups.test.result)
log "ups.test.result before the test: '$before'"
t0=$(rc_now)
out=$(upscmd "${ADMIN[@]}" -w "$NUT_UPS" test.battery.start 2>&1 | grep -v 'Init SSL')
check_eq "upscmd test.battery.start result" "SUCCESS" "$out"
SAW_OB=0
test_done() {
  [[ " $(upsc_get ups.status) " == *" OB "* ]] && SAW_OB=1
  local r
  r=$(upsc_get ups.test.result)
  [ -n "$r" ] && [ "$r" != "$before" ]
}
if wait_until "$((SELFTEST_MS / 1000 + 15))" test_done; then
  result=$(upsc_get ups.test.result)
  log "ups.test.result changed after $(rc_elapsed "$t0")s (test lasts $((SELFTEST_MS / 1000)) s)"
  # ULS p.6: X answers OK after a passed test; the profile's battery is good
  check_eq "ups.test.result after the self-test" "OK" "$result"
else
  fail "ups.test.result changed within $((SELFTEST_MS / 1000 + 15)) s of test.battery.start (still '$(upsc_get ups.test.result)')"
fi
check_eq "ups.status showed OB during the self-test" 1 "$SAW_OB"
is_ol() { [[ " $(upsc_get ups.status) " == *" OL "* ]]; }
wait_until 15 is_ol || true
nut_check_status "$PROFILE"

# ---- 4. shutdown.stayoff: output off after the shutdown delay p
pget P_DEFAULT "$PROFILE" eeprom.p.default
P_SECS=$((10#$P_DEFAULT))
# NUT's apcsmart acts on a "nasty" command (K) only when it is requested
# twice 3 to 15 s apart (instcmd_chktime); the first request only arms it.
out=$(upscmd "${ADMIN[@]}" -w "$NUT_UPS" shutdown.stayoff 2>&1 | grep -v 'Init SSL')
log "first shutdown.stayoff (arms the driver): $out"
armed() { grep -q 'instcmd_chktime: outside window for \[shutdown.stayoff' "$NUT_DIR/driver.log"; }
wait_until 5 armed || fail "NUT driver registered the first shutdown.stayoff request"
sleep 3.5   # NUT's own minimum gap between the two requests (not a readiness wait)
check_words "ups.status just before shutdown.stayoff" "OL" "$(upsc_get ups.status)"
# The delay runs from the second K, which the driver sends 1.5 s into the
# request (K, 0.2 s peek, 1.3 s pause, K) and whose "OK" it logs as
# 'sdok: got "OK"': that log line is the start of the measurement.
upscmd "${ADMIN[@]}" -w -t 15 "$NUT_UPS" shutdown.stayoff >"$RC_TMP/stayoff.out" 2>&1 &
UPSCMD_PID=$!
RC_PIDS+=("$UPSCMD_PID"); RC_PIDNAME[$UPSCMD_PID]=upscmd
sdok() { grep -q 'sdok: got' "$NUT_DIR/driver.log"; }
if wait_until 15 sdok; then
  pass "NUT driver sent K..K and got the UPS's reply"
else
  fail "NUT driver sent K..K and got the UPS's reply (driver log: sdok) within 15 s"
fi
t_k=$(rc_now)
{ wait "$UPSCMD_PID"; } 2>/dev/null
check_eq "upscmd shutdown.stayoff result" "SUCCESS" "$(grep -v 'Init SSL' "$RC_TMP/stayoff.out")"
is_off() { [[ " $(upsc_get ups.status) " == *" OFF "* ]]; }
if wait_until "$((P_SECS + 20))" is_off; then
  took=$(rc_elapsed "$t_k")
  log "ups.status became OFF ${took}s after the UPS acknowledged K..K (profile shutdown delay p = $P_SECS s)"
  # not before p (minus the 0.2 s poll of the log line); NUT sees OFF at its
  # next poll (every 2 s) after p, plus upsc latency and slack
  check_range "seconds from K..K to OFF (p = $P_SECS s)" \
    "$(python3 -c "print($P_SECS - 0.5)")" "$((P_SECS + 4))" "$took"
  check_words "ups.status after the shutdown delay" "OFF" "$(upsc_get ups.status)"
else
  fail "ups.status became OFF within $((P_SECS + 20)) s of shutdown.stayoff (p = $P_SECS s; got '$(upsc_get ups.status)')"
fi

nut_stop
sim_stop
