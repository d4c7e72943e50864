#!/usr/bin/env bash
# The live control socket (upssim --control) under a running NUT session
# (apcsmart, pollinterval 1; default profile, real time).
#   - `status` answers one status line: the unit on line (Q 08, output on,
#     in smart mode with NUT), the profile's load, and t=
#   - 100 malformed lines (control-malformed.txt: unknown keys, values out
#     of range or of the wrong kind, two events, timeline-only keys, YAML
#     that is not one mapping ...) each get one `error: ...` reply, on one
#     connection, in order; so do a line with a NUL byte and a line longer
#     than the limit.  None changes anything: the status line (but t=) is
#     the same before and after, the timeline shows no event, NUT still
#     reports OL and the profile's load
#   - {load: 80}: NUT's ups.load is 80 within one poll (pollinterval + 1 s)
#     of the event's scenario time (its timeline row)
#   - {line: off}: NUT's ups.status is OB within pollinterval + 1 s;
#     {line: on}: OL again within as long
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut

POLL=1
MAXLAG=$((POLL + 1))
MALFORMED=$RC_LIB_DIR/control-malformed.txt
sim_default_profile PROFILE
pget LOAD "$PROFILE" electrical.load

sim_start_ctl "" 1
nut_start "$SIM_DEV" pollinterval=$POLL || rc_abort "NUT session on $SIM_DEV"

# ---- 1. status
sim_status || fail "control status answers a status line (got '$SIM_STATUS')"
check_match "control status line" \
  '^status Q=[0-9A-F]{2} charge=[0-9.]+ .* output=(on|off) .* t=[0-9]+\.[0-9]{3}$' "$SIM_STATUS"
check_eq "status: Q (on line)" 08 "$(sim_field Q)"
check_eq "status: output" on "$(sim_field output)"
check_eq "status: smart (NUT sent Y)" yes "$(sim_field smart)"
check_num "status: load (profile)" "$LOAD" "$(sim_field load)" 0.05
check_eq "' status ' (blanks around) answers status too" status \
  "$(sim_ctl ' status ' | cut -d' ' -f1)"

# ---- 2. malformed lines: an error each, nothing changes
strip_t() { sed 's/ t=[0-9.]*$//' <<<"$1"; }
sim_status
before=$(strip_t "$SIM_STATUS")
events_before=$(tl_count 'event~^(event|wire) ')
n_lines=$(grep -c '' "$MALFORMED")
check_eq "malformed lines in $(basename "$MALFORMED")" 100 "$n_lines"
replies=$(sim_ctl - <"$MALFORMED") || fail "every malformed line got a reply within 5 s"
check_eq "replies to the malformed lines" "$n_lines" "$(grep -c '' <<<"$replies")"
bad=$(paste -d'\t' "$MALFORMED" - <<<"$replies" | awk -F'\t' '$2 !~ /^error: ./')
if [ -z "$bad" ]; then
  pass "each of the $n_lines malformed lines got 'error: ...'"
else
  fail "malformed lines answered without an error:"
  sed 's/^/#   /' <<<"$bad"
fi
log "a few of the replies:"
paste -d'\t' "$MALFORMED" - <<<"$replies" | sed -n '1p;14p;73p;79p;84p' | sed 's/^/#   /'
check_eq "a line with a NUL byte" "error: NUL byte in line" \
  "$(printf '{line: \000off}\n' | sim_ctl -)"
long=$(printf '{load: %02000d}' 5)
check_match "a line of 2000+ bytes" "^error: line too long" "$(sim_ctl "$long")"
sim_status
check_eq "status line (but t=) after the malformed lines" "$before" "$(strip_t "$SIM_STATUS")"
check_eq "timeline events after the malformed lines" "$events_before" "$(tl_count 'event~^(event|wire) ')"
check_words "NUT ups.status after the malformed lines" OL "$(upsc_get ups.status)"
check_num "NUT ups.load after the malformed lines (profile)" "$LOAD" "$(upsc_get ups.load)" 0.05

# ---- 3. {load: 80}
nut_load_is() { python3 -c 'import sys; sys.exit(abs(float(sys.argv[1] or "nan") - float(sys.argv[2])) > 0.05)' \
  "$(upsc_get ups.load)" "$1" 2>/dev/null; }
check_eq "control {load: 80}" ok "$(sim_ctl '{load: 80}')"
expect_seen "NUT ups.load 80 after {load: 80}" 15 "$MAXLAG" nut_load_is 80 -- \
  'event~^event load$' 'load_pct=80.0'

# ---- 4. {line: off}, {line: on}
T0=$(tl_last 'event~^event load$')
check_eq "control {line: off}" ok "$(sim_ctl '{line: off}')"
expect_seen "NUT OL -> OB after {line: off}" 15 "$MAXLAG" nut_status_is OB -- \
  --after "$T0" 'event~^event line$' 'Q&0x18=0x10'
T1=$SEEN_T
check_eq "control {line: on}" ok "$(sim_ctl '{line: on}')"
expect_seen "NUT OB -> OL after {line: on}" 15 "$MAXLAG" nut_status_is OL -- \
  --after "$T1" 'event~^event line$' 'Q&0x18=0x08'
sim_status
check_eq "status after the outage: Q, output, load" "08 on 80.0" \
  "$(sim_field Q) $(sim_field output) $(sim_field load)"

nut_stop
sim_stop
