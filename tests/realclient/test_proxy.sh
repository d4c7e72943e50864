#!/bin/bash
# test_proxy.sh - `upsharness proxy` between NUT and a "real" unit
# (docs/harness.md "proxy"): a socat pty pair stands for the serial cable,
# `upssim --device A` for the unit on its far end, and `upsharness proxy
# --device B --link $RC_TMP/ups --trace T` makes the pty NUT's apcsmart
# driver opens.  After 30 s of polling:
#   - the proxy's trace holds every byte both ways: its rx and tx streams
#     are byte for byte what upssim itself received and sent (upssim
#     --trace), Y and SM pair up, and every command NUT sent has its reply
#   - replaying the trace with `upssim --replay T` under NUT gives the same
#     upsc values (identity, ratings, settings, status)
set -u
source "$(dirname "$0")/lib.sh"
rc_require_root
rc_require_clients nut
UPSHARNESS_BIN=${UPSHARNESS_BIN:-$(dirname "$UPSSIM_BIN")/upsharness}
command -v "$UPSHARNESS_BIN" >/dev/null || [ -x "$UPSHARNESS_BIN" ] ||
  rc_abort "upsharness next to upssim ($UPSHARNESS_BIN)"
command -v socat >/dev/null || rc_abort "socat installed"

scans_done() { [ "$(grep -c 'update_info: scan completed' "$1" 2>/dev/null)" -ge "$2" ]; }
has_line() { [ "$(head -c 4096 "$1" 2>/dev/null | tr -cd '\n' | wc -c)" -ge 1 ]; }

# ---- the cable: a pty pair
A=$RC_TMP/cable-a
B=$RC_TMP/cable-b
rc_spawn socat "$RC_TMP/socat.log" socat -d -d "pty,raw,echo=0,link=$A" "pty,raw,echo=0,link=$B"
SOCAT_PID=$RC_LAST_PID
wait_until 10 grep -q "starting data transfer loop" "$RC_TMP/socat.log" ||
  { rc_tail "$RC_TMP/socat.log"; rc_abort "socat made the pty pair within 10 s"; }

# ---- the proxy on end B (first: it sees every byte the unit sends,
# the alert it starts with included)
PX_TRACE=$RC_TMP/proxy.trace
"$UPSHARNESS_BIN" proxy --device "$B" --link "$RC_TMP/ups" --trace "$PX_TRACE" \
  </dev/null >"$RC_TMP/proxy.out" 2>"$RC_TMP/proxy.err" &
PX_PID=$!
RC_PIDS+=("$PX_PID"); RC_PIDNAME[$PX_PID]=upsharness-proxy
wait_until 10 has_line "$RC_TMP/proxy.out" ||
  { rc_tail "$RC_TMP/proxy.err"; rc_abort "upsharness proxy printed its device path"; }
check_eq "proxy prints its --link path" "$RC_TMP/ups" "$(head -n 1 "$RC_TMP/proxy.out")"

# ---- the unit on end A
UNIT_TRACE=$RC_TMP/unit.trace
"$UPSSIM_BIN" --device "$A" --trace "$UNIT_TRACE" </dev/null \
  >"$RC_TMP/unit.out" 2>"$RC_TMP/unit.err" &
UNIT_PID=$!
RC_PIDS+=("$UNIT_PID"); RC_PIDNAME[$UNIT_PID]=upssim-unit
wait_until 10 has_line "$RC_TMP/unit.out" ||
  { rc_tail "$RC_TMP/unit.err"; rc_abort "upssim --device $A started"; }

# ---- NUT through the proxy, 30 s of polling
nut_start "$RC_TMP/ups" || rc_abort "NUT started through the proxy"
t_nut=$(rc_now)
sleep 30
log "NUT polled through the proxy for $(rc_elapsed "$t_nut")s"
upsc_all | sort >"$RC_TMP/nut-live.txt"
nut_stop
sleep 1   # the last reply reaches both traces
rc_stop "$PX_PID" 5
check_eq "proxy exit status after SIGTERM" 0 "$RC_STOP_STATUS"
if [ -e "$RC_TMP/ups" ] || [ -L "$RC_TMP/ups" ]; then
  fail "proxy removed its --link on exit"
else
  pass "proxy removed its --link on exit"
fi
rc_stop "$UNIT_PID" 5
rc_stop "$SOCAT_PID" 5

# ---- the trace holds every byte both ways
if python3 - "$PX_TRACE" "$UNIT_TRACE" >"$RC_TMP/trace-check.txt" 2>&1 <<'EOF'
import re, sys

def read(path):
    evs = []
    side_host = False
    for ln in open(path, encoding="latin-1"):
        ln = ln.rstrip("\n")
        if not ln or ln.startswith("#") or ln.startswith("upssim: "):
            continue
        m = re.match(r'^(\d+\.\d+) (rx|tx) "((?:[^"\\]|\\.)*)"', ln)
        if not m:
            if "side=host" in ln:
                side_host = True
            evs.append(("note", ln.split(" ", 1)[1] if " " in ln else ""))
            continue
        s = m.group(3)
        out = bytearray()
        i = 0
        while i < len(s):
            c = s[i]
            if c == "\\":
                e = s[i + 1]
                if e == "x":
                    out.append(int(s[i + 2:i + 4], 16)); i += 4; continue
                out.append({"r": 13, "n": 10, "t": 9, "0": 0, '"': 34, "\\": 92}[e]); i += 2; continue
            out.append(ord(c)); i += 1
        evs.append((m.group(2), bytes(out)))
    return evs

px = read(sys.argv[1])
unit = read(sys.argv[2])
ok = True
def check(name, cond, detail=""):
    global ok
    print(("ok   " if cond else "FAIL ") + name + (" " + detail if detail else ""))
    ok &= bool(cond)

check("proxy trace header says side=ups", px and px[0][0] == "note" and "side=ups" in px[0][1], repr(px[:1]))
check("proxy trace notes host-open", any(e == ("note", "host-open") or (e[0] == "note" and e[1].startswith("host-open")) for e in px))
check("proxy trace notes host-close", any(e[0] == "note" and e[1].startswith("host-close") for e in px))
prx = b"".join(b for d, b in px if d == "rx")
ptx = b"".join(b for d, b in px if d == "tx")
urx = b"".join(b for d, b in unit if d == "rx")
utx = b"".join(b for d, b in unit if d == "tx")
check("proxy rx = what the unit received", prx == urx, "(%d vs %d bytes)" % (len(prx), len(urx)))
check("proxy tx = what the unit sent", ptx == utx, "(%d vs %d bytes)" % (len(ptx), len(utx)))
ny, nsm = prx.count(b"Y"), ptx.count(b"SM\r\n")
check("Y and SM pair up", ny > 0 and ny == nsm, "(%d Y, %d SM)" % (ny, nsm))
# every command NUT sent is answered before the next one
missing = 0
cmds = 0
for i, (d, b) in enumerate(px):
    if d != "rx":
        continue
    cmds += 1
    j = i + 1
    while j < len(px) and px[j][0] == "note":
        j += 1
    if j >= len(px) or px[j][0] != "tx":
        missing += 1
        print("#  no reply after rx %r" % b)
check("every command in rx has its reply in tx", cmds > 20 and missing == 0,
      "(%d commands, %d without a reply)" % (cmds, missing))
sys.exit(0 if ok else 1)
EOF
then
  pass "proxy trace holds every byte both ways"
else
  fail "proxy trace holds every byte both ways"
fi
sed 's/^/#   /' "$RC_TMP/trace-check.txt"

# ---- replay the proxy's trace under NUT
sim_start "" --replay "$PX_TRACE"
nut_start "$SIM_DEV" || rc_abort "NUT started on the replay"
wait_until 30 scans_done "$NUT_DIR/driver.log" 3 ||
  fail "the driver completed three poll scans on the replay"
upsc_all | sort >"$RC_TMP/nut-replay.txt"
nut_stop
sim_stop

# static variables and status: identity, ratings, settings (readings that
# move with the model's clock are left out)
static_vars() {
  grep -v -E '^(battery\.(charge|runtime|voltage|temperature)|input\.(voltage|frequency)[a-z.]*|output\.(voltage|frequency)|ups\.(load|temperature)|driver\.[a-z.]*|device\.uptime|ambient\.[a-z.]*):' "$1"
}
static_vars "$RC_TMP/nut-live.txt" >"$RC_TMP/static-live.txt"
static_vars "$RC_TMP/nut-replay.txt" >"$RC_TMP/static-replay.txt"
check_ok "the live session reported ups.status and the model" \
  grep -q -E '^ups\.status: .*OL' "$RC_TMP/static-live.txt"
check_ok "the live session reported the model" grep -q '^device.model: ' "$RC_TMP/static-live.txt"
if diff "$RC_TMP/static-live.txt" "$RC_TMP/static-replay.txt" >"$RC_TMP/static.diff"; then
  pass "upsc on the replay = upsc through the proxy ($(wc -l <"$RC_TMP/static-live.txt") static variables)"
else
  fail "upsc on the replay = upsc through the proxy"
  sed 's/^/#   /' "$RC_TMP/static.diff"
fi
