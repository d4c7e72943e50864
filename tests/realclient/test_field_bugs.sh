#!/bin/bash
# test_field_bugs.sh - the field bugs in scenarios/field/, reproduced on the
# installed Debian 12 NUT 2.8.0 driver (and apcupsd 3.14), each as its
# README there says:
#
#  NUT #1941/#2015: on an RT 1000 XL whose ^Z reply it cannot parse, NUT
#    2.8.0's apcsmart exits at start-up with "apc_getcaps: nument (-1) or
#    entlen (3) out of range" and "ERROR: capability overflow!"; apcupsd
#    runs on the same unit (as the reporter's apcaccess shows).
#  NUT #180: an RT 10000 XL speaking protocol level 4 (a 4th field in `a`,
#    a 0xF0 extension item in ^Z).  NUT 2.8.0 has both fixes: it parses the
#    `a` reply (no "very old or unknown APC model"), the ^Z lists, and
#    reports the unit's identity; the old driver's pattern for `a` would
#    not have matched this reply, the fixed one does.
set -u
source "$(dirname "$0")/lib.sh"
rc_require_root
rc_require_clients nut apcupsd
FIELD=$UPSSIM_SOURCE_DIR/scenarios/field

# field_sim NAME: upssim playing scenarios/field/NAME.yaml with its trace
field_sim() {
  [ -f "$FIELD/$1.yaml" ] && [ -f "$FIELD/$1.trace" ] ||
    rc_abort "scenarios/field/$1.yaml and .trace exist"
  sim_start "" --scenario "$FIELD/$1.yaml" --replay "$FIELD/$1.trace"
}

# nut_driver_once DEV: run the apcsmart driver in the foreground (-D) with a
# fresh ups.conf until it exits by itself (60 s at most); its output in
# NUT_ONCE_LOG, its exit status in NUT_ONCE_STATUS (124: still running)
nut_driver_once() {
  local dir=$RC_TMP/nut-once
  mkdir -p "$dir/etc" "$dir/state"
  printf '[sim]\n    driver = apcsmart\n    port = %s\n' "$1" >"$dir/etc/ups.conf"
  echo "MODE=standalone" >"$dir/etc/nut.conf"
  chmod 640 "$dir/etc/"*
  NUT_ONCE_LOG=$dir/driver.log
  NUT_CONFPATH=$dir/etc NUT_STATEPATH=$dir/state NUT_ALTPIDPATH=$dir/state \
    timeout 60 "$NUT_DRIVER" -a sim -u root -D >"$NUT_ONCE_LOG" 2>&1 </dev/null
  NUT_ONCE_STATUS=$?
}

# ---- NUT #1941 / #2015 -----------------------------------------------------
field_sim nut-1941-caps-abort
nut_driver_once "$SIM_DEV"
if [ "$NUT_ONCE_STATUS" != 0 ] && [ "$NUT_ONCE_STATUS" != 124 ]; then
  pass "#1941: NUT 2.8.0 apcsmart exits at start-up (status $NUT_ONCE_STATUS)"
else
  fail "#1941: NUT 2.8.0 apcsmart exits at start-up (status $NUT_ONCE_STATUS)"
  rc_tail "$NUT_ONCE_LOG"
fi
check_match "#1941: the driver says what #1941 and #2015 quote" \
  'apc_getcaps: nument \(-1\) or entlen \(3\) out of range' \
  "$(grep 'nument' "$NUT_ONCE_LOG" | head -n 1)"
check_match "#2015: ... and gives up" 'ERROR: capability overflow!' \
  "$(grep 'capability overflow' "$NUT_ONCE_LOG" | head -n 1)"
check_match "#1941: it got that far: the a list parsed, the caps read" \
  'parsing out caps' "$(grep 'parsing out caps' "$NUT_ONCE_LOG")"
# the same unit under apcupsd: it stores ^Z as text and runs
apc_start "$SIM_DEV" || rc_abort "#1941: apcupsd starts on the same unit"
apc_status
check_eq "#1941: apcupsd MODEL" "Smart-UPS RT 1000 XL" "$(apc_field MODEL)"
check_eq "#1941: apcupsd FIRMWARE" "411.8.I" "$(apc_field FIRMWARE)"
check_eq "#1941: apcupsd STATUS" "ONLINE" "$(apc_field STATUS)"
apc_stop
sim_stop

# ---- NUT #180 ---------------------------------------------------------------
field_sim nut-180-level4
nut_start "$SIM_DEV" || rc_abort "#180: NUT 2.8.0 starts on the RT 10000 XL"
check_eq "#180: ups.model (as sent, three spaces)" "Smart-UPS RT 10000 XL   " \
  "$(upsc_get ups.model)"
check_eq "#180: ups.firmware" "476.18.W" "$(upsc_get ups.firmware)"
check_eq "#180: battery.voltage (192 V pack)" "219.2" "$(upsc_get battery.voltage)"
check_eq "#180: ups.serial (as sent)" "B21130002653  " "$(upsc_get ups.serial)"
if grep -q 'very old or unknown APC model' "$NUT_DIR/driver.log"; then
  fail "#180: the level-4 \`a\` reply is taken for what it is (no 'very old or unknown APC model')"
else
  pass "#180: the level-4 \`a\` reply is taken for what it is (no 'very old or unknown APC model')"
fi
check_match "#180: the W-locale ^Z lists make the settings writable" \
  'output.voltage.nominal \[o\(W\)\] - capability supported' \
  "$(grep 'o(W)' "$NUT_DIR/driver.log")"
check_eq "#180: an enumerated setting from ^Z (input.transfer.high)" \
  "253 242 265 276" \
  "$(upsrw "$NUT_UPS" 2>/dev/null | sed -n '/^\[input.transfer.high\]/,/^$/p' |
     sed -n 's/^Option: "\(.*\)".*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
nut_stop
# the `a` reply as the unit sent it: 4 fields; NUT before 07e2f13eb required
# exactly 3 (so "very old"), NUT 2.8.0's pattern allows the 4th
python3 - "$SIM_TRACE" <<'PY' >"$RC_TMP/a-check.txt"
import re, sys
lines = open(sys.argv[1], encoding="latin-1").read().splitlines()
def unesc(q):
    return re.sub(r'\\x([0-9A-F]{2})|\\(.)', lambda m: chr(int(m.group(1), 16))
                  if m.group(1) else {"r": "\r", "n": "\n"}.get(m.group(2), m.group(2)), q)
for i, l in enumerate(lines):
    if re.match(r'^\S+ rx "a"$', l):
        for m in lines[i + 1:]:
            t = re.match(r'^\S+ tx "(.*)"$', m)
            if t:
                a = unesc(t.group(1)).rstrip("\r\n")
                old = re.match(r'^[0-9]\.[^.]*\.[^.]+$', a, re.S) is not None
                new = re.match(r'^[0-9]\.[^.]*\.[^.]+(\.[^.]+)?$', a, re.S) is not None
                print(len(a.split(".")), "old" if old else "-", "new" if new else "-")
                sys.exit(0)
print("none")
PY
check_eq "#180: the a reply has 4 fields; the old pattern fails, 2.8.0's matches" \
  "4 - new" "$(cat "$RC_TMP/a-check.txt")"
sim_stop
