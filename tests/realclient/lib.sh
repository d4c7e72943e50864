# lib.sh - shared code of the real-client acceptance tests (source it).
#
# The tests run the real host programs -- NUT 2.8's apcsmart driver + upsd +
# upsc/upscmd/upsrw, apcupsd 3.14 + apcaccess + apctest -- against the
# installed upssim ($UPSSIM_BIN) and compare what those clients report with
# the profile YAML (profile.py).  Every process is started here, recorded by
# pid and stopped by that pid on exit; everything lives in one temp dir per
# run; servers listen on random free 127.0.0.1 ports.  Waits poll for an
# event (a line printed, a socket appearing, a client answering, a value
# changing) under a deadline; nothing sleeps for readiness.
#
# Needs root (apcupsd refuses to run otherwise; NUT is run with -u root).
# Environment:
#   UPSSIM_BIN         upssim to test (default: upssim on PATH)
#   UPSSIM_SOURCE_DIR  repo root, for profiles/*.yaml (default: ../..)
#   NUT_DRIVER NUT_UPSD NUT_UPSMON NUT_UPSDRVCTL APCUPSD_BIN APCACCESS_BIN
#   APCTEST_BIN        client paths
#   RC_KEEP=1          keep the temp dir (it is kept anyway when a check fails)
#   RC_VERBOSE=1       print client logs on failure (default: tails only)

set -u
RC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UPSSIM_BIN=${UPSSIM_BIN:-$(command -v upssim || echo upssim)}
UPSSIM_SOURCE_DIR=${UPSSIM_SOURCE_DIR:-$(cd "$RC_LIB_DIR/../.." && pwd)}
export UPSSIM_SOURCE_DIR
NUT_DRIVER=${NUT_DRIVER:-/lib/nut/apcsmart}
NUT_UPSD=${NUT_UPSD:-/lib/nut/upsd}
NUT_UPSMON=${NUT_UPSMON:-/lib/nut/upsmon}   # /sbin/upsmon is a wrapper
NUT_UPSDRVCTL=${NUT_UPSDRVCTL:-$(command -v upsdrvctl || echo /sbin/upsdrvctl)}
rc_find_bin() {   # NAME: first of /sbin /usr/sbin /opt/apcupsd-root/sbin
  local d
  for d in /sbin /usr/sbin /opt/apcupsd-root/sbin; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return; }
  done
  echo "$1"
}
APCUPSD_BIN=${APCUPSD_BIN:-$(rc_find_bin apcupsd)}
APCACCESS_BIN=${APCACCESS_BIN:-$(rc_find_bin apcaccess)}
APCTEST_BIN=${APCTEST_BIN:-$(rc_find_bin apctest)}

RC_PASSED=0
RC_FAILED=0
RC_NAME=$(basename "${0%.sh}")
RC_T0=$(date +%s.%N)
RC_TMP=$(mktemp -d "/tmp/upssim-${RC_NAME}.XXXXXX")
RC_PIDS=()            # every process we started, in start order
declare -A RC_PIDNAME=()

# ------------------------------------------------------------------ output

rc_now() { date +%s.%N; }
rc_elapsed() {  # [T0] -> seconds since T0 (default: test start), 1 decimal
  python3 -c "import sys;print('%.1f'%(float(sys.argv[1])-float(sys.argv[2])))" \
    "$(rc_now)" "${1:-$RC_T0}"
}
log() { echo "# [$(rc_elapsed)s] $*"; }

pass() { RC_PASSED=$((RC_PASSED + 1)); echo "ok   - $1"; }
fail() { RC_FAILED=$((RC_FAILED + 1)); echo "FAIL - $1"; }

# check_eq NAME EXPECTED ACTUAL: exact string equality
check_eq() {
  if [ "$2" == "$3" ]; then pass "$1 = '$3'"
  else fail "$1: expected '$2', got '$3'"; fi
}

# check_num NAME EXPECTED ACTUAL [TOL]: |actual - expected| <= TOL (0.05)
check_num() {
  local tol=${4:-0.05}
  if python3 - "$2" "$3" "$tol" <<'EOF'
import sys
try:
    e, a, t = (float(x) for x in sys.argv[1:4])
except ValueError:
    sys.exit(1)
sys.exit(0 if abs(a - e) <= t else 1)
EOF
  then pass "$1 = $3 (profile: $2)"
  else fail "$1: expected $2 (+-$tol), got '$3'"; fi
}

# check_range NAME LO HI ACTUAL: LO <= actual <= HI (numbers)
check_range() {
  if python3 -c "import sys;sys.exit(0 if float(sys.argv[1])<=float(sys.argv[3])<=float(sys.argv[2]) else 1)" \
      "$2" "$3" "$4" 2>/dev/null
  then pass "$1 = $4 (within $2..$3)"
  else fail "$1: expected $2..$3, got '$4'"; fi
}

# check_words NAME "EXPECTED WORDS" "ACTUAL WORDS": same set of words
check_words() {
  local e a
  e=$(tr -s ' ' '\n' <<<"$2" | sed '/^$/d' | sort | tr '\n' ' ')
  a=$(tr -s ' ' '\n' <<<"$3" | sed '/^$/d' | sort | tr '\n' ' ')
  if [ "$e" == "$a" ] && [ -n "$e" ]; then pass "$1 = {${a% }}"
  else fail "$1: expected {${e% }}, got {${a% }}"; fi
}

# check_match NAME ERE ACTUAL
check_match() {
  if [[ "$3" =~ $2 ]]; then pass "$1 = '$3'"
  else fail "$1: expected to match /$2/, got '$3'"; fi
}

# check_ok NAME CMD...: the command succeeds
check_ok() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

# pget VAR PROFILE KEY: set VAR to a value from the profile (profile.py).
# A profile that does not give an expectation ends the test as a failure
# (runs in this shell, never in $(...), so the count and the exit stick).
pget() {
  local _v
  if ! _v=$(python3 "$RC_LIB_DIR/profile.py" "$2" "$3"); then
    rc_abort "read the expectation $3 from profile $2"
  fi
  printf -v "$1" '%s' "$_v"
}

# sget VAR SCENARIO KEY: as pget, for the profile a scenario file runs (its
# profile with its override laid over it: profile.py --scenario)
sget() {
  local _v
  if ! _v=$(python3 "$RC_LIB_DIR/profile.py" --scenario "$2" "$3"); then
    rc_abort "read the expectation $3 from scenario $2"
  fi
  printf -v "$1" '%s' "$_v"
}

# wait_until DEADLINE_SECS CMD...: poll CMD (every 0.2 s) until it succeeds
wait_until() {
  local secs=$1; shift
  local end
  end=$(python3 -c "import time,sys;print(time.time()+float(sys.argv[1]))" "$secs")
  while :; do
    "$@" && return 0
    python3 -c "import time,sys;sys.exit(time.time()<float(sys.argv[1]))" "$end" && return 1
    sleep 0.2
  done
}

# ------------------------------------------------------------------ processes

# rc_spawn NAME LOGFILE CMD...: start CMD in the background (stdin
# /dev/null, stdout+stderr to LOGFILE); sets RC_LAST_PID
# Every file a spawned client writes is capped (ulimit -f, KiB): a debug
# log of a driver that loops on a vanished port once filled a disk with
# 79 GB; past the cap the client gets SIGXFSZ and the test fails instead.
RC_FILE_CAP_KB=${RC_FILE_CAP_KB:-262144}
rc_spawn() {
  local name=$1 logf=$2; shift 2
  ( ulimit -f "$RC_FILE_CAP_KB"; exec "$@" ) </dev/null >"$logf" 2>&1 &
  RC_LAST_PID=$!
  RC_PIDS+=("$RC_LAST_PID")
  RC_PIDNAME[$RC_LAST_PID]=$name
}

rc_alive() { kill -0 "$1" 2>/dev/null; }

# rc_stop PID [SECS]: SIGTERM, wait up to SECS (5) for it to exit, else
# SIGKILL; sets RC_STOP_STATUS to its exit status (or "killed")
rc_stop() {
  local pid=$1 secs=${2:-5} i n
  RC_STOP_STATUS=gone
  [ -n "$pid" ] || return 0
  if rc_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    n=$(python3 -c "print(int(float('$secs')*20))")
    for ((i = 0; i < n; i++)); do rc_alive "$pid" || break; sleep 0.05; done
    if rc_alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null
      { wait "$pid"; } 2>/dev/null
      RC_STOP_STATUS=killed
      return 0
    fi
  fi
  { wait "$pid"; } 2>/dev/null
  RC_STOP_STATUS=$?
}

rc_cleanup() {
  local i pid
  trap - EXIT INT TERM
  for ((i = ${#RC_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${RC_PIDS[$i]}
    if rc_alive "$pid"; then
      echo "# stopping ${RC_PIDNAME[$pid]:-process} (pid $pid)"
      rc_stop "$pid" 3
    fi
  done
}

rc_on_exit() {
  local st=$?
  rc_cleanup
  if [ $RC_PASSED -eq 0 ] && [ $RC_FAILED -eq 0 ]; then
    echo "FAIL - nothing was checked (exit status $st)"
    RC_FAILED=1
  fi
  if [ $RC_FAILED -gt 0 ] || [ "${RC_KEEP:-0}" = 1 ]; then
    echo "# logs kept in $RC_TMP"
  else
    rm -rf "$RC_TMP"
  fi
  echo "# $RC_NAME took $(rc_elapsed)s"
  echo "$RC_PASSED passed, $RC_FAILED failed"
  [ $RC_FAILED -eq 0 ] && exit 0
  exit 1
}
trap rc_on_exit EXIT
trap 'echo "# interrupted"; RC_FAILED=$((RC_FAILED + 1)); exit 130' INT TERM

# rc_abort MSG: a step the rest depends on failed: count it, end the test
rc_abort() {
  fail "$*"
  exit 1
}

# rc_tail FILE [N]: show the end of a log (whole log with RC_VERBOSE=1)
rc_tail() {
  local n=${2:-25}
  [ "${RC_VERBOSE:-0}" = 1 ] && n=100000
  echo "# --- last $n lines of $1"
  tail -n "$n" "$1" 2>/dev/null | sed 's/^/#   /'
}

rc_require_root() {
  [ "$(id -u)" = 0 ] || rc_abort "the real-client tests need root (apcupsd)"
}

# rc_require_clients nut|apcupsd...: the host programs are installed
rc_require_clients() {
  local what b missing=()
  for what in "$@"; do
    case $what in
      nut) for b in "$NUT_DRIVER" "$NUT_UPSD" upsc upscmd upsrw; do
             command -v "$b" >/dev/null || missing+=("$b"); done ;;
      upsmon) for b in "$NUT_UPSMON" "$NUT_UPSDRVCTL"; do
             command -v "$b" >/dev/null || missing+=("$b"); done ;;
      apcupsd) for b in "$APCUPSD_BIN" "$APCACCESS_BIN" "$APCTEST_BIN"; do
             command -v "$b" >/dev/null || missing+=("$b"); done ;;
    esac
  done
  python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
  [ ${#missing[@]} -eq 0 ] ||
    rc_abort "real clients installed (missing: ${missing[*]}; run scripts/install-deps.sh)"
}

rc_free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# ------------------------------------------------------------------ upssim

# sim_start PROFILE [upssim args...]: start upssim -v with --link in the temp
# dir (PROFILE "" = no --profile: the built-in default); waits for the device
# path (first stdout line).  Sets SIM_PID, SIM_DEV, SIM_OUT (stdout),
# SIM_TRACE (stderr: the -v byte trace), SIM_LINK.
SIM_PID=""
sim_start() {
  local profile=$1; shift
  local args=(--link "$RC_TMP/ups" -v)
  [ -n "$profile" ] && args=(--profile "$profile" "${args[@]}")
  SIM_OUT=$RC_TMP/upssim.out
  SIM_TRACE=$RC_TMP/upssim.trace
  SIM_LINK=$RC_TMP/ups
  [ -x "$UPSSIM_BIN" ] || command -v "$UPSSIM_BIN" >/dev/null ||
    rc_abort "UPSSIM_BIN=$UPSSIM_BIN is not executable"
  "$UPSSIM_BIN" "${args[@]}" "$@" </dev/null >"$SIM_OUT" 2>"$SIM_TRACE" &
  SIM_PID=$!
  RC_PIDS+=("$SIM_PID"); RC_PIDNAME[$SIM_PID]=upssim
  if ! wait_until 10 sim_first_line; then
    rc_tail "$SIM_TRACE"
    rc_abort "upssim ${args[*]} printed its device path within 10 s"
  fi
  SIM_DEV=$(head -n 1 "$SIM_OUT")
  log "upssim pid $SIM_PID: ${args[*]} $*: device $SIM_DEV"
  check_eq "upssim first stdout line is the --link path" "$SIM_LINK" "$SIM_DEV"
  [ -e "$SIM_DEV" ] || rc_abort "device $SIM_DEV exists"
}
# sim_default_profile VAR: the profile upssim runs without --profile, as
# `upssim --list-profiles` marks it ("(default)"); README: smart-ups-1500
sim_default_profile() {
  local _d
  _d=$("$UPSSIM_BIN" --list-profiles 2>/dev/null | awk '/\(default\)$/ { print $1; exit }')
  if [ -z "$_d" ]; then
    fail "upssim --list-profiles marks the default profile"
    _d=smart-ups-1500
  fi
  printf -v "$1" '%s' "$_d"
}

sim_first_line() {
  rc_alive "$SIM_PID" || return 1
  [ "$(head -c 4096 "$SIM_OUT" | tr -cd '\n' | wc -c)" -ge 1 ]
}

# sim_stop: SIGTERM upssim and check that it exits 0 and removes its link
sim_stop() {
  [ -n "$SIM_PID" ] || return 0
  if ! rc_alive "$SIM_PID"; then
    fail "upssim (pid $SIM_PID) still running at the end of the test"
    rc_tail "$SIM_TRACE"
    SIM_PID=""
    return
  fi
  rc_stop "$SIM_PID" 5
  check_eq "upssim exit status after SIGTERM" 0 "$RC_STOP_STATUS"
  if [ -e "$SIM_LINK" ] || [ -L "$SIM_LINK" ]; then
    fail "upssim removed its --link $SIM_LINK on exit"
  else
    pass "upssim removed its --link on exit"
  fi
  SIM_PID=""
}

# ------------------------------------------------------------------ control socket, timeline, time

# sim_start_ctl PROFILE SPEED [upssim args...]: sim_start with a control
# socket and a timeline CSV in the temp dir and the model running SPEED
# times real time (--scenario FILE among the args plays a scenario; PROFILE
# "" then lets the scenario name the profile).  Ties scenario time to wall
# time (sim_clock_ref).  Sets SIM_CTL, SIM_TIMELINE, SIM_SPEED.
sim_start_ctl() {
  local profile=$1 speed=$2; shift 2
  SIM_CTL=$RC_TMP/ctl
  SIM_TIMELINE=$RC_TMP/timeline.csv
  SIM_SPEED=$speed
  sim_start "$profile" --control "$SIM_CTL" --timeline "$SIM_TIMELINE" \
    --speed "$speed" "$@"
  wait_until 5 test -S "$SIM_CTL" || rc_abort "upssim made its control socket $SIM_CTL"
  sim_clock_ref
}

# sim_ctl LINE...: send LINEs on one control connection, print the replies
# (one a line); fails if a reply did not come within 5 s
sim_ctl() { python3 "$RC_LIB_DIR/ctl.py" "$SIM_CTL" "$@"; }

# sim_status: the control socket's `status` line, saved in SIM_STATUS
sim_status() {
  SIM_STATUS=$(sim_ctl status 2>/dev/null)
  [[ $SIM_STATUS == status\ * ]]
}
# sim_field KEY: the value of KEY= in the last sim_status (Q, output, t ...)
sim_field() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" ${SIM_STATUS#status}"
}
# sim_is KEY VALUE: a fresh `status` says KEY=VALUE
sim_is() { sim_status && [ "$(sim_field "$1")" == "$2" ]; }

# sim_clock_ref: read `status` with the wall time of its round trip, so
# scenario time (`t=`, the timeline's t_s) converts to wall time: model time
# runs SIM_SPEED times faster than the wall clock, the wire clock does not.
sim_clock_ref() {
  local r
  r=$(python3 "$RC_LIB_DIR/ctl.py" --stamp "$SIM_CTL" status) ||
    rc_abort "upssim answers status on its control socket"
  SIM_REF_WALL=${r%% *}
  SIM_REF_T=$(sed -n 's/.* t=\([0-9.]*\).*/\1/p' <<<"$r")
  [ -n "$SIM_REF_T" ] || rc_abort "the control status line has t= (got '$r')"
}
# sim_wall_of T: wall time (epoch seconds) at which scenario time T passed
sim_wall_of() {
  python3 -c 'import sys; w,t,x,s = map(float, sys.argv[1:]); print("%.3f" % (w + (x - t) / s))' \
    "$SIM_REF_WALL" "$SIM_REF_T" "$1" "$SIM_SPEED"
}
# sim_scen_of WALL: scenario time at wall time WALL
sim_scen_of() {
  python3 -c 'import sys; w,t,x,s = map(float, sys.argv[1:]); print("%.3f" % (t + (x - w) * s))' \
    "$SIM_REF_WALL" "$SIM_REF_T" "$1" "$SIM_SPEED"
}

# tl_first COND...: scenario time of the first timeline row meeting every
# COND (timeline.py: Q&0x50=0x50, 'event~^cmd "S"$', charge_pct>=50,
# --after T); fails if there is none yet
tl_first() { python3 "$RC_LIB_DIR/timeline.py" "$SIM_TIMELINE" first "$@"; }
# tl_last COND...: scenario time of the last timeline row meeting every COND
tl_last() { python3 "$RC_LIB_DIR/timeline.py" "$SIM_TIMELINE" last "$@"; }
# tl_count COND...: how many timeline rows meet every COND
tl_count() { python3 "$RC_LIB_DIR/timeline.py" "$SIM_TIMELINE" count "$@"; }
# tl_at T COLUMN: COLUMN of the last timeline row at or before T
tl_at() { python3 "$RC_LIB_DIR/timeline.py" "$SIM_TIMELINE" at "$@"; }
# tl_wait SECS COND...: wait until a row meets COND; its time goes to TL_T
tl_wait() {
  local secs=$1; shift
  _tl_found() { TL_T=$(tl_first "$@") ; }
  TL_T=""
  wait_until "$secs" _tl_found "$@"
}

# wait_seen SECS CMD...: poll CMD (every 0.1 s) until it succeeds; RC_SEEN
# is the wall time at which the successful check ended (an upper bound of
# when the state it looks at was first visible).  Fails after SECS.
wait_seen() {
  local secs=$1; shift
  local end=$((${EPOCHREALTIME/./} + ${secs%.*} * 1000000))
  RC_SEEN=""
  while :; do
    if "$@"; then RC_SEEN=$EPOCHREALTIME; return 0; fi
    [ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
    sleep 0.1
  done
}

# check_lag NAME EVENT_T SEEN_WALL MAX: a client saw what happened at
# scenario time EVENT_T no later than MAX wall seconds after it (and not
# before it, give or take 0.3 s for the clock reference)
check_lag() {
  local name=$1 ev=$2 seen=$3 max=$4 evw lag
  if [ -z "$ev" ] || [ -z "$seen" ]; then
    fail "$name: no event time ('$ev') or no time seen ('$seen')"
    return
  fi
  evw=$(sim_wall_of "$ev")
  lag=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) - float(sys.argv[2])))' "$seen" "$evw")
  check_range "$name: seconds from scenario t=$ev s to the client" -0.3 "$max" "$lag"
}

# expect_seen NAME SECS MAXLAG CMD... -- COND...: wait up to SECS for CMD
# (a client showing a state), then find the timeline row where the unit
# changed (COND, see tl_first) and check the client saw it within MAXLAG
# wall seconds (check_lag).  Sets SEEN_T (the row's scenario time).
# Returns non-zero if the client never showed it.
expect_seen() {
  local name=$1 secs=$2 max=$3; shift 3
  local cmd=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do cmd+=("$1"); shift; done
  shift
  SEEN_T=""
  if ! wait_seen "$secs" "${cmd[@]}"; then
    fail "$name: not seen within ${secs}s"
    return 1
  fi
  if ! SEEN_T=$(tl_first "$@"); then
    fail "$name: the timeline has no row where $* (the client saw it anyway)"
    return 1
  fi
  check_lag "$name" "$SEEN_T" "$RC_SEEN" "$max"
}

# check_unit_off_and_back SCENARIO T: the end of a power-fail chain, after
# a host sent S to the unit on battery after scenario time T:
#   - the output goes off the `p` delay after the S (timeline, +-0.5 s);
#   - with the line off the unit is then unpowered, with charge left (the
#     S turned it off, not an empty battery);
#   - {line: on} on the control socket: the unit, whose charge is below the
#     `e` capacity, recharges and turns its output on the `r` delay after
#     the charge reaches `e` (+-0.5 s), not before.
# Sets CHAIN_T_S, CHAIN_T_OFF, CHAIN_T_ON, CHAIN_T_BACK (scenario times).
check_unit_off_and_back() {
  local scen=$1 after=$2 p r e rate c_on t_e secs reply
  sget p "$scen" eeprom.p.default
  sget r "$scen" eeprom.r.default
  sget e "$scen" eeprom.e.default
  sget rate "$scen" battery.recharge_rate
  p=$((10#$p)); r=$((10#$r)); e=$((10#$e))
  CHAIN_T_S=""; CHAIN_T_OFF=""; CHAIN_T_ON=""; CHAIN_T_BACK=""
  if ! CHAIN_T_S=$(tl_first --after "$after" 'event~^cmd "S"$'); then
    fail "the host sent S to the unit (timeline: no 'cmd \"S\"' row after t=$after)"
    return 1
  fi
  log "S reached the unit at t=$CHAIN_T_S (profile p = $p s)"
  secs=$(python3 -c "print(int($p / $SIM_SPEED) + 10)")
  if ! tl_wait "$secs" --after "$CHAIN_T_S" 'Q&0xFF=0x00'; then
    sim_status
    fail "the output went off within ${secs}s of S (status: $SIM_STATUS)"
    return 1
  fi
  CHAIN_T_OFF=$TL_T
  check_num "scenario seconds from S to output off (p)" "$p" \
    "$(python3 -c "print('%.3f' % ($CHAIN_T_OFF - $CHAIN_T_S))")" 0.5
  if wait_until 5 sim_is alive no; then
    pass "the unit is unpowered (output off, line off): $(sim_field output), alive=$(sim_field alive)"
  else
    fail "the unit is unpowered after its output went off with the line off (status: $SIM_STATUS)"
  fi
  check_range "charge left when the output went off (S, not an empty battery)" \
    0.1 100 "$(tl_at "$CHAIN_T_OFF" charge_pct)"

  reply=$(sim_ctl '{line: on}')
  check_eq "control {line: on}" ok "$reply"
  if ! CHAIN_T_ON=$(tl_first --after "$CHAIN_T_OFF" 'event~^event line$'); then
    fail "the timeline shows the line event"
    return 1
  fi
  c_on=$(tl_at "$CHAIN_T_ON" charge_pct)
  check_range "charge when the line returned is below e = $e % (the unit must wait)" \
    0 "$(python3 -c "print($e - 0.1)")" "$c_on"
  secs=$(python3 -c "print(int((($e - $c_on) / $rate * 3600 + $r) / $SIM_SPEED) + 15)")
  if ! tl_wait "$secs" --after "$CHAIN_T_ON" 'Q&0x08=0x08'; then
    sim_status
    fail "the output came back on line within ${secs}s of the line's return (status: $SIM_STATUS)"
    return 1
  fi
  CHAIN_T_BACK=$TL_T
  if t_e=$(tl_first --after "$CHAIN_T_ON" "charge_pct>=$e"); then
    log "line back at t=$CHAIN_T_ON (charge $c_on %), e = $e % reached at t=$t_e, output on at t=$CHAIN_T_BACK"
    check_num "scenario seconds from charge >= e to output on (r)" "$r" \
      "$(python3 -c "print('%.3f' % ($CHAIN_T_BACK - $t_e))")" 0.5
  else
    fail "the charge reached e = $e % before the output came back (timeline)"
  fi
  check_eq "status Q after the restart" 08 "$(sim_status && sim_field Q)"
}

# trace_has_seq EVENT...: upssim's -v byte trace ($SIM_TRACE) has these
# events one right after the other, each written as the trace writes it
# without its time: 'rx "p"' 'tx "020\r\n"' 'rx "S"' 'tx "OK\r\n"'
trace_has_seq() {
  python3 - "$SIM_TRACE" "$@" <<'PY'
import sys
want = sys.argv[2:]
ev = [l.rstrip("\n").split(" ", 1)[1] for l in open(sys.argv[1], errors="replace")
      if " " in l and l[:1].isdigit()]
n = len(want)
sys.exit(0 if any(ev[i:i + n] == want for i in range(len(ev) - n + 1)) else 1)
PY
}

# wire_inject NAME LINE: inject a wire fault ({wire: ...} LINE on the control
# socket; NAME as the timeline writes it: silence, corrupt, comms_lost ...)
# and find its timeline row.  Sets WIRE_T, the fault's scenario time.
# Returns non-zero (after recording a failure) if that did not happen.
wire_inject() {
  local name=$1 line=$2 r n
  n=$(tl_count "event~^wire $name\$")
  r=$(sim_ctl "$line")
  if [ "$r" != ok ]; then
    fail "control $line: expected ok, got '$r'"
    return 1
  fi
  _wire_row() { [ "$(tl_count "event~^wire $name\$")" -gt "$n" ]; }
  if ! wait_until 5 _wire_row; then
    fail "the timeline shows the wire fault $name"
    return 1
  fi
  WIRE_T=$(tl_last "event~^wire $name\$")
}
# wire_polled [N [SECS]]: wait until the host has sent `Q` N times (2) since
# the last wire_inject, i.e. the fault has met the host's polls
wire_polled() {
  local n=${1:-2} secs=${2:-40}
  _polled() { [ "$(tl_count --after "$WIRE_T" 'event~^cmd "Q"$')" -ge "$n" ]; }
  wait_until "$secs" _polled ||
    { fail "the host polled Q $n times within ${secs}s of the wire fault"; return 1; }
}
# wire_fault NAME LINE: wire_inject, then wire_polled
wire_fault() { wire_inject "$@" && wire_polled; }

# ------------------------------------------------------------------ NUT

# nut_start DEVICE [key=value driver options...]: apcsmart driver
# (foreground, -u root, -D) + upsd on a free port, each in a fresh dir.
# Waits for the driver's state socket, upsd answering and the first
# ups.status.  Sets NUT_UPS (for upsc), NUT_DIR, NUT_DRV_PID, NUT_UPSD_PID.
# Returns non-zero (after recording a failure) if a step did not happen.
NUT_N=0
NUT_DRV_PID=""; NUT_UPSD_PID=""
nut_start() {
  local dev=$1; shift
  local kv t0
  NUT_N=$((NUT_N + 1))
  NUT_DIR=$RC_TMP/nut$NUT_N
  mkdir -p "$NUT_DIR/etc" "$NUT_DIR/state"
  NUT_PORT=$(rc_free_port)
  NUT_UPS="sim@127.0.0.1:$NUT_PORT"
  {
    echo "[sim]"
    echo "    driver = apcsmart"
    echo "    port = $dev"
    echo "    desc = \"upssim real-client test\""
    for kv in "$@"; do echo "    ${kv%%=*} = ${kv#*=}"; done
  } >"$NUT_DIR/etc/ups.conf"
  echo "LISTEN 127.0.0.1 $NUT_PORT" >"$NUT_DIR/etc/upsd.conf"
  # admin: upscmd/upsrw; monitor: upsmon (nut_upsmon_start), which may set FSD
  printf '[admin]\n    password = secret\n    actions = SET\n    instcmds = ALL\n' \
    >"$NUT_DIR/etc/upsd.users"
  printf '[monitor]\n    password = monsecret\n    upsmon primary\n' \
    >>"$NUT_DIR/etc/upsd.users"
  echo "MODE=standalone" >"$NUT_DIR/etc/nut.conf"
  chmod 640 "$NUT_DIR/etc/"*
  export NUT_CONFPATH=$NUT_DIR/etc NUT_STATEPATH=$NUT_DIR/state NUT_ALTPIDPATH=$NUT_DIR/state
  t0=$(rc_now)
  # -u root: the driver drops privileges before opening the port;
  # -D: debug log and foreground (so the pid is the driver's);
  # NUT_DEBUG=-DDDDD for a log upssim-trace can import
  rc_spawn apcsmart "$NUT_DIR/driver.log" "$NUT_DRIVER" -a sim -u root "${NUT_DEBUG:--D}"
  NUT_DRV_PID=$RC_LAST_PID
  if ! wait_until 45 nut_socket_ready; then
    rc_tail "$NUT_DIR/driver.log"
    fail "NUT apcsmart driver came up (state socket) within 45 s"
    return 1
  fi
  pass "NUT apcsmart driver started (state socket after $(rc_elapsed "$t0")s)"
  rc_spawn upsd "$NUT_DIR/upsd.log" "$NUT_UPSD" -u root -F
  NUT_UPSD_PID=$RC_LAST_PID
  if ! wait_until 15 nut_upsd_ready; then
    rc_tail "$NUT_DIR/upsd.log"
    fail "upsd answers upsc -l within 15 s"
    return 1
  fi
  if ! wait_until 30 nut_has_status; then
    rc_tail "$NUT_DIR/driver.log"
    fail "upsc reports ups.status within 30 s of upsd starting"
    return 1
  fi
  log "NUT ready: $NUT_UPS (driver pid $NUT_DRV_PID, upsd pid $NUT_UPSD_PID)"
  return 0
}
nut_socket_ready() {
  rc_alive "$NUT_DRV_PID" || return 1
  [ -S "$NUT_DIR/state/apcsmart-sim" ]
}
nut_upsd_ready() {
  rc_alive "$NUT_UPSD_PID" || return 1
  upsc -l "127.0.0.1:$NUT_PORT" >/dev/null 2>&1
}
nut_has_status() {
  rc_alive "$NUT_DRV_PID" || return 1
  [ -n "$(upsc_get ups.status)" ]
}

# upsc_get VAR: the variable's value ("" if upsc fails)
upsc_get() { upsc "$NUT_UPS" "$1" 2>/dev/null; }
# upsc_all: every variable, "name: value" lines
upsc_all() { upsc "$NUT_UPS" 2>/dev/null; }

# nut_status_has WORD...: ups.status has every WORD (OB, LB, FSD ...)
nut_status_has() {
  local st w
  st=" $(upsc_get ups.status) "
  for w in "$@"; do [[ $st == *" $w "* ]] || return 1; done
}
# nut_status_is WORD...: ups.status is exactly these words (any order)
nut_status_is() {
  local a e
  a=$(upsc_get ups.status | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
  e=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$a" == "$e" ]
}

# nut_stop: stop upsd, then the driver (by pid); the driver must have stayed up
nut_stop() {
  if [ -n "$NUT_DRV_PID" ]; then
    if rc_alive "$NUT_DRV_PID"; then
      pass "NUT apcsmart driver still running at the end of the session"
    else
      fail "NUT apcsmart driver still running at the end of the session"
      rc_tail "$NUT_DIR/driver.log"
    fi
  fi
  rc_stop "$NUT_UPSD_PID" 5
  rc_stop "$NUT_DRV_PID" 5
  NUT_UPSD_PID=""; NUT_DRV_PID=""
  unset NUT_CONFPATH NUT_STATEPATH NUT_ALTPIDPATH
}

# nut_upsmon_start [upsmon.conf lines...]: NUT's upsmon (-p: one privileged
# process; -D: debug log, foreground) as the primary of the running NUT
# session: MONITOR $NUT_UPS 1 monitor monsecret primary, MINSUPPLIES 1,
# POLLFREQ/POLLFREQALERT 1, FINALDELAY 0.  Its SHUTDOWNCMD only records
# that it ran (creates NUT_MON_RAN); POWERDOWNFLAG is NUT_MON_PDFLAG; every
# notification goes through NOTIFYCMD into NUT_MON_NOTIFY ("<epoch> TYPE
# message" lines).  Extra lines go at the end of upsmon.conf.  Waits until
# upsd lists upsmon as a client.  Sets NUT_MON_PID.
NUT_MON_PID=""
nut_upsmon_start() {
  local t0 ty
  NUT_MON_RAN=$NUT_DIR/shutdowncmd.ran
  NUT_MON_PDFLAG=$NUT_DIR/killpower.flag
  NUT_MON_NOTIFY=$NUT_DIR/notify.log
  {
    echo '#!/bin/sh'
    echo '# NOTIFYCMD: record the notification, nothing else'
    echo "echo \"\$(date +%s.%N) \$NOTIFYTYPE \$*\" >> \"$NUT_MON_NOTIFY\""
  } >"$NUT_DIR/notify.sh"
  chmod 755 "$NUT_DIR/notify.sh"
  {
    echo "MONITOR $NUT_UPS 1 monitor monsecret primary"
    echo "MINSUPPLIES 1"
    echo "SHUTDOWNCMD \"touch $NUT_MON_RAN\""
    echo "POWERDOWNFLAG $NUT_MON_PDFLAG"
    echo "POLLFREQ 1"
    echo "POLLFREQALERT 1"
    echo "HOSTSYNC 15"
    echo "DEADTIME 15"
    echo "FINALDELAY 0"
    echo "RUN_AS_USER root"
    echo "NOTIFYCMD $NUT_DIR/notify.sh"
    for ty in ONLINE ONBATT LOWBATT FSD COMMOK COMMBAD SHUTDOWN REPLBATT NOCOMM; do
      echo "NOTIFYFLAG $ty SYSLOG+EXEC"
    done
    for ty in "$@"; do echo "$ty"; done
  } >"$NUT_DIR/etc/upsmon.conf"
  chmod 640 "$NUT_DIR/etc/upsmon.conf"
  t0=$(rc_now)
  rc_spawn upsmon "$NUT_DIR/upsmon.log" "$NUT_UPSMON" -p -D -F
  NUT_MON_PID=$RC_LAST_PID
  if ! wait_until 15 nut_upsmon_logged_in; then
    rc_tail "$NUT_DIR/upsmon.log"
    fail "upsmon logged in to upsd within 15 s"
    return 1
  fi
  pass "upsmon logged in to upsd as primary ($(rc_elapsed "$t0")s)"
}
nut_upsmon_logged_in() {
  rc_alive "$NUT_MON_PID" || return 1
  upsc -c "$NUT_UPS" 2>/dev/null | grep -q .
}
# nut_upsmon_notified TYPE...: the notifications of those types that went
# through NOTIFYCMD, in the order upsmon issued them.  upsmon forks one
# NOTIFYCMD per notification, so two issued in the same poll (LOWBATT, then
# SHUTDOWN) may append to NUT_MON_NOTIFY in either order; upsmon's own log
# (-D, foreground) has every message in the order it decided on it.  Each
# NOTIFYCMD line is placed at the line of upsmon.log that holds the same
# message; a notification upsmon never logged sorts last.
nut_upsmon_notified() {
  local want=" $* " ts ty msg n
  [ -s "$NUT_MON_NOTIFY" ] || return 0
  while read -r ts ty msg; do
    case $want in *" $ty "*) ;; *) continue ;; esac
    n=$(grep -nF -- "$msg" "$NUT_DIR/upsmon.log" 2>/dev/null | head -n 1 | cut -d: -f1)
    echo "${n:-999999} $ty"
  done <"$NUT_MON_NOTIFY" | sort -n -s -k1,1 | awk '{ print $2 }' | tr '\n' ' ' | sed 's/ $//'
}
# nut_powerdown_flag_set: `upsmon -K` (exit 0 when POWERDOWNFLAG is set, as
# a halt script asks it); its chatter goes to upsmon-K.log
nut_powerdown_flag_set() {
  NUT_CONFPATH=$NUT_DIR/etc NUT_STATEPATH=$NUT_DIR/state NUT_ALTPIDPATH=$NUT_DIR/state \
    "$NUT_UPSMON" -K >>"$NUT_DIR/upsmon-K.log" 2>&1
}
# nut_upsmon_stop: stop upsmon if it still runs (after SHUTDOWNCMD it exits)
nut_upsmon_stop() {
  rc_stop "$NUT_MON_PID" 5
  NUT_MON_PID=""
}

# nut_killpower: what a halt script does when `upsmon -K` says so:
# `upsdrvctl -u root shutdown sim` with the last session's ups.conf (the
# driver's -k).  The session must have been stopped (nut_stop) first: the
# running driver holds a lock on the port.  Output in NUT_KILL_LOG;
# returns upsdrvctl's exit status.
nut_killpower() {
  NUT_KILL_LOG=$NUT_DIR/upsdrvctl-shutdown.log
  NUT_CONFPATH=$NUT_DIR/etc NUT_STATEPATH=$NUT_DIR/state NUT_ALTPIDPATH=$NUT_DIR/state \
    timeout 60 "$NUT_UPSDRVCTL" -u root shutdown sim >"$NUT_KILL_LOG" 2>&1
}

# ------------------------------------------------------------------ apcupsd

# apc_conf FILE DEVICE LOCKDIR [extra lines]: a minimal apcsmart config
apc_conf() {
  local f=$1 dev=$2 dir=$3; shift 3
  mkdir -p "$dir/lock" "$dir/run" "$dir/log" "$dir/scripts"
  cat >"$dir/scripts/apccontrol" <<'EOF'
#!/bin/sh
# stub apccontrol: log the event only; never shut anything down
echo "$(date +%H:%M:%S) apccontrol $*" >> "$(dirname "$0")/../log/apccontrol.log"
exit 0
EOF
  chmod +x "$dir/scripts/apccontrol"
  cat >"$f" <<EOF
## apcupsd.conf v1.1 ##
UPSCABLE smart
UPSTYPE apcsmart
DEVICE $dev
LOCKFILE $dir/lock
SCRIPTDIR $dir/scripts
PWRFAILDIR $dir/run
NOLOGINDIR $dir/run
EOF
  local l
  for l in "$@"; do echo "$l" >>"$f"; done
}

# apc_start DEVICE ["KEY value"...]: apcupsd -b (no UPSNAME in the config,
# so it reads `c`) with NIS on a free port; waits until apcaccess shows MODEL
# and STATUS.  Each "KEY value" replaces the default line for KEY (or is
# added), e.g. "POLLTIME 1".  Sets APC_PID, APC_DIR, APC_NIS, APC_EVENTS
# (apcupsd's EVENTSFILE) and APC_CONTROL_LOG (what the stub apccontrol was
# called with, one "HH:MM:SS apccontrol EVENT ..." line per call).  Returns
# non-zero after recording a failure.
APC_N=0
APC_PID=""
apc_start() {
  local dev=$1 t0 l k; shift
  APC_N=$((APC_N + 1))
  APC_DIR=$RC_TMP/apcupsd$APC_N
  APC_PORT=$(rc_free_port)
  APC_NIS=127.0.0.1:$APC_PORT
  APC_EVENTS=$APC_DIR/log/apcupsd.events
  APC_CONTROL_LOG=$APC_DIR/log/apccontrol.log
  local conf=(
    "POLLTIME 60" "ONBATTERYDELAY 6" "BATTERYLEVEL 5" "MINUTES 3" "TIMEOUT 0"
    "ANNOY 300" "ANNOYDELAY 60" "NOLOGON disable" "KILLDELAY 0"
    "NETSERVER on" "NISIP 127.0.0.1" "NISPORT $APC_PORT"
    "EVENTSFILE $APC_EVENTS" "EVENTSFILEMAX 10"
    "UPSCLASS standalone" "UPSMODE disable" "STATTIME 0"
    "STATFILE $APC_DIR/log/apcupsd.status" "LOGSTATS off" "DATATIME 0")
  for l in "$@"; do
    k=${l%% *}
    conf=("${conf[@]/#$k */}")
    conf+=("$l")
  done
  apc_conf "$APC_DIR/apcupsd.conf" "$dev" "$APC_DIR" "${conf[@]}"
  t0=$(rc_now)
  # APC_DEBUG=200: apcupsd's debug log, for upssim-trace import
  rc_spawn apcupsd "$APC_DIR/apcupsd.log" "$APCUPSD_BIN" -b \
    -f "$APC_DIR/apcupsd.conf" -P "$APC_DIR/run/apcupsd.pid" \
    ${APC_DEBUG:+-d "$APC_DEBUG"}
  APC_PID=$RC_LAST_PID
  if ! wait_until 45 apc_ready; then
    rc_tail "$APC_DIR/apcupsd.log"
    fail "apcupsd reports MODEL and STATUS within 45 s"
    return 1
  fi
  pass "apcupsd started (status valid after $(rc_elapsed "$t0")s)"
  log "apcupsd pid $APC_PID, NIS $APC_NIS"
  return 0
}
apc_ready() {
  rc_alive "$APC_PID" || return 1
  local s
  s=$("$APCACCESS_BIN" -h "$APC_NIS" status 2>/dev/null) || return 1
  grep -q '^MODEL ' <<<"$s" && grep -q '^STATUS ' <<<"$s"
}

# apc_status: apcaccess status, units stripped (-u), saved in APC_STATUS
apc_status() {
  APC_STATUS=$("$APCACCESS_BIN" -u -h "$APC_NIS" status 2>/dev/null)
}
# apc_field NAME: value of NAME in the last apc_status (trailing blanks cut)
apc_field() {
  awk -v k="$1" 'index($0, k " ") == 1 || index($0, k ":") == 1 {
      sub(/^[^:]*: ?/, ""); sub(/[ \t]+$/, ""); print; exit }' <<<"$APC_STATUS"
}

# apc_killpower: what apccontrol's `killpower` does at the end of a system
# shutdown: `apcupsd --killpower` with the session's config (it needs the
# powerfail file apcupsd made at doshutdown, in PWRFAILDIR) -- the daemon
# must have been stopped first, as the shutdown would have.  Its output
# goes to APC_KILL_LOG.  Returns apcupsd's exit status.
apc_killpower() {
  local pid st
  APC_KILL_LOG=$APC_DIR/killpower.log
  "$APCUPSD_BIN" --killpower -f "$APC_DIR/apcupsd.conf" \
    -P "$APC_DIR/run/killpower.pid" </dev/null >"$APC_KILL_LOG" 2>&1 &
  pid=$!
  RC_PIDS+=("$pid"); RC_PIDNAME[$pid]="apcupsd --killpower"
  # S, then apcupsd waits 5 s for the reply (smartoper.c kill_power)
  if ! wait_until 60 eval "! rc_alive $pid"; then
    fail "apcupsd --killpower finished within 60 s"
    rc_stop "$pid" 2
    return 1
  fi
  { wait "$pid"; } 2>/dev/null
  st=$?
  return $st
}

# apc_status_has WORD...: a fresh apcaccess STATUS has every WORD
apc_status_has() {
  local st w
  apc_status || return 1
  st=" $(apc_field STATUS) "
  for w in "$@"; do [[ $st == *" $w "* ]] || return 1; done
}

apc_stop() {
  if [ -n "$APC_PID" ]; then
    if rc_alive "$APC_PID"; then
      pass "apcupsd still running at the end of the session"
    else
      fail "apcupsd still running at the end of the session"
      rc_tail "$APC_DIR/apcupsd.log"
    fi
  fi
  rc_stop "$APC_PID" 5
  APC_PID=""
}

# apctest_run DEVICE OUTFILE INPUT [TIMEOUT]: apctest with INPUT piped to its
# menu (it reads answers with fgets); its transcript goes to OUTFILE.
# Returns apctest's exit status.
APCTEST_N=0
apctest_run() {
  local dev=$1 out=$2 input=$3 tmo=${4:-180} dir pid st
  APCTEST_N=$((APCTEST_N + 1))
  dir=$RC_TMP/apctest$APCTEST_N
  apc_conf "$dir/apcupsd.conf" "$dev" "$dir" "NETSERVER off"
  printf '%s' "$input" >"$dir/input"
  # apctest appends its own transcript to ./apctest.output: run in $dir
  ( cd "$dir" && exec "$APCTEST_BIN" -f "$dir/apcupsd.conf" ) \
    <"$dir/input" >"$out" 2>&1 &
  pid=$!
  RC_PIDS+=("$pid"); RC_PIDNAME[$pid]=apctest
  # apctest ends by itself when its input ends; the deadline is a safety net
  if ! wait_until "$tmo" eval "! rc_alive $pid"; then
    fail "apctest finished within ${tmo}s"
    rc_stop "$pid" 2
    return 1
  fi
  { wait "$pid"; } 2>/dev/null
  st=$?
  return $st
}

# ------------------------------------------------------------------ checks

# What each client reports, and the profile value it must equal.
# Rows: "CLIENT_KEY|KIND|PROFILE_KEY|TOLERANCE"; KIND: str (exact), num
# (numeric, TOLERANCE), min60 (NUT seconds = profile minutes * 60), int.
NUT_VALUES=(
  "device.model|str|identity.model"
  "ups.firmware|str|identity.firmware_b"
  "device.serial|str|identity.serial"
  "ups.id|str|expect.ups_id"
  "battery.charge|num|battery.charge|0.05"
  "battery.runtime|min60|expect.runtime_min|60"
  "input.voltage|num|electrical.line_voltage|0.05"
  "output.voltage|num|expect.output_voltage|0.05"
  "input.frequency|num|electrical.line_frequency|0.005"
  "ups.load|num|electrical.load|0.05"
  "ups.temperature|num|electrical.temperature|0.05"
  "input.transfer.high|num|eeprom.u.default|0"
  "input.transfer.low|num|eeprom.l.default|0"
  "ups.delay.shutdown|num|eeprom.p.default|0"
)
APC_VALUES=(
  "MODEL|str|identity.model"
  "FIRMWARE|str|identity.firmware_b"
  "SERIALNO|str|identity.serial"
  "UPSNAME|str|expect.ups_id"
  "MANDATE|str|identity.manufactured"
  "BATTDATE|str|identity.battery_date"
  "LINEV|num|electrical.line_voltage|0.05"
  "OUTPUTV|num|expect.output_voltage|0.05"
  "LINEFREQ|num|electrical.line_frequency|0.05"
  "LOADPCT|num|electrical.load|0.05"
  "ITEMP|num|electrical.temperature|0.05"
  "BCHARGE|num|battery.charge|0.05"
  "TIMELEFT|num|expect.runtime_min|1"
  "HITRANS|num|eeprom.u.default|0"
  "LOTRANS|num|eeprom.l.default|0"
  "DSHUTD|num|eeprom.p.default|0"
)

# check_reported CLIENT PROFILE GETTER REQUIRED ROWS...: for each row, the
# value GETTER KEY returns must match the profile.  REQUIRED is "all" (every
# row must be reported) or a space-separated list of keys that must be;
# other rows are checked only when the client reports them.
check_reported() {
  local client=$1 profile=$2 getter=$3 required=$4; shift 4
  local row key kind pkey tol got want
  for row in "$@"; do
    IFS='|' read -r key kind pkey tol <<<"$row"
    got=$("$getter" "$key")
    if [ -z "$got" ]; then
      if [ "$required" = all ] || [[ " $required " == *" $key "* ]]; then
        fail "$client reports $key (profile $pkey)"
      else
        log "$client does not report $key (not required for $profile)"
      fi
      continue
    fi
    pget want "$profile" "$pkey"
    case $kind in
      str) check_eq "$client $key" "$want" "$got" ;;
      num) check_num "$client $key" "$want" "$got" "${tol:-0.05}" ;;
      min60) check_num "$client $key (s)" "$((want * 60))" "$got" "${tol:-60}" ;;
    esac
  done
}

# nut_check_status PROFILE: ups.status is the profile's on-line state
nut_check_status() {
  local want
  pget want "$1" expect.status_flags
  check_words "NUT ups.status" "$want" "$(upsc_get ups.status)"
}
# apc_check_status PROFILE: apcaccess STATUS is the same state
apc_check_status() {
  local want
  pget want "$1" expect.status_flags
  want=$(sed 's/\bOL\b/ONLINE/' <<<"$want")
  check_words "apcupsd STATUS" "$want" "$(apc_field STATUS)"
}
