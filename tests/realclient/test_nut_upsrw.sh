#!/usr/bin/env bash
# NUT 2.8 upsrw writes the UPS ID (`c`) and battery date (`x`) by direct
# entry: `c`, `-`, then the value padded to 8 with CR, 50 ms a character
# (docs/profiles.md "Direct entry").  Regression test for two bugs:
#   - a `-` inside the value (ups.id=s0-ups0, the ID of a real SU3000RM in
#     NUT's device-dump library) was skipped, so the entry stayed open and
#     swallowed the next command: a following battery.date=11/6/03 ended up
#     in the UPS ID
#   - the CR padding was stored as spaces: ups.id=adler read back "adler   "
# Checks:
#   - upsrw lists ups.id and battery.date as STRING
#   - upsrw -s ups.id=s0-ups0, then at once battery.date=11/6/03: both
#     SUCCESS, and upsc reads both back exactly
#   - upsrw -s ups.id=adler: upsc shows exactly "adler"
#   - upsrw -s ups.id with an alert character is refused (the unit answers
#     NO) and ups.id keeps "adler"
#   - the NUT driver stayed up and logged no failed string write
#   - apcupsd afterwards: apcaccess UPSNAME adler, BATTDATE 11/6/03
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd

ADMIN=(-u admin -p secret)
NEW_ID=s0-ups0
NEW_DATE=11/6/03
SHORT_ID=adler

sim_start ""
nut_start "$SIM_DEV" || rc_abort "NUT session on $SIM_DEV"

# upsrw_set VAR VALUE: upsrw -s, waiting for the driver's answer; prints
# upsrw's result ("SUCCESS" or its error)
upsrw_set() {
  upsrw -s "$1=$2" "${ADMIN[@]}" -w -t 30 "$NUT_UPS" 2>&1 | grep -v 'Init SSL'
}
# upsc_is VAR VALUE: upsc reports exactly VALUE
upsc_is() { [ "$(upsc_get "$1")" == "$2" ]; }
# check_reads_back VAR VALUE: upsc reports exactly VALUE within 15 s
check_reads_back() {
  if wait_until 15 upsc_is "$1" "$2"; then
    pass "upsc reads $1 back as '$2'"
  else
    fail "upsc reads $1 back as '$2' within 15 s (got '$(upsc_get "$1")')"
  fi
}

# ---- 1. both are writable strings
upsrw "$NUT_UPS" >"$RC_TMP/upsrw.txt" 2>/dev/null
for var in ups.id battery.date; do
  type=$(awk -v v="[$var]" '$0 == v {on=1; next} /^\[/ {on=0} on' "$RC_TMP/upsrw.txt" |
    sed -n 's/^Type: //p')
  check_match "upsrw $var type" "^STRING" "$type"
done

# ---- 2. an ID with a `-`, then at once the battery date
log "upsrw -s ups.id=$NEW_ID"
check_eq "upsrw -s ups.id=$NEW_ID result" SUCCESS "$(upsrw_set ups.id "$NEW_ID")"
log "upsrw -s battery.date=$NEW_DATE"
check_eq "upsrw -s battery.date=$NEW_DATE result" SUCCESS "$(upsrw_set battery.date "$NEW_DATE")"
check_reads_back ups.id "$NEW_ID"
check_reads_back battery.date "$NEW_DATE"
# the entry has not swallowed the driver's polls: status is still read
check_words "ups.status after both writes" OL "$(upsc_get ups.status)"

# ---- 3. a short ID: NUT's CR padding is not part of the value
log "upsrw -s ups.id=$SHORT_ID"
check_eq "upsrw -s ups.id=$SHORT_ID result" SUCCESS "$(upsrw_set ups.id "$SHORT_ID")"
check_reads_back ups.id "$SHORT_ID"
check_eq "battery.date unchanged by the ID write" "$NEW_DATE" "$(upsc_get battery.date)"

# ---- 4. an alert character is refused: the unit answers NO
BAD_ID='ups!1'
out=$(upsrw_set ups.id "$BAD_ID")
log "upsrw -s ups.id=$BAD_ID: $out"
check_eq "upsrw -s ups.id=$BAD_ID result (the driver's STAT_SET_FAILED)" "ERR FAILED" "$out"
nut_saw_no() { grep -q 'got NO at final read' "$NUT_DIR/driver.log"; }
if wait_until 10 nut_saw_no; then
  pass "NUT driver got NO for an ID with an alert character"
else
  fail "NUT driver logged 'got NO at final read' within 10 s"
  rc_tail "$NUT_DIR/driver.log"
fi
check_eq "ups.id kept after the refused write" "$SHORT_ID" "$(upsc_get ups.id)"
check_words "ups.status after the refused write" OL "$(upsc_get ups.status)"

# ---- 5. only the refused write failed
n=$(grep -c -E 'setvar_string: (short final read|got NO)|apc_write_long failed' "$NUT_DIR/driver.log")
check_eq "NUT driver string-write failures (only the refused one)" 1 "$n"
nut_stop

# ---- 6. apcupsd reads the values NUT wrote
if apc_start "$SIM_DEV"; then
  apc_status
  check_eq "apcupsd UPSNAME" "$SHORT_ID" "$(apc_field UPSNAME)"
  check_eq "apcupsd BATTDATE" "$NEW_DATE" "$(apc_field BATTDATE)"
  apc_stop
fi

sim_stop
