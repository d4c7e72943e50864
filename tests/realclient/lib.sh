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
#   NUT_DRIVER NUT_UPSD APCUPSD_BIN APCACCESS_BIN APCTEST_BIN  client paths
#   RC_KEEP=1          keep the temp dir (it is kept anyway when a check fails)
#   RC_VERBOSE=1       print client logs on failure (default: tails only)

set -u
RC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UPSSIM_BIN=${UPSSIM_BIN:-$(command -v upssim || echo upssim)}
UPSSIM_SOURCE_DIR=${UPSSIM_SOURCE_DIR:-$(cd "$RC_LIB_DIR/../.." && pwd)}
export UPSSIM_SOURCE_DIR
NUT_DRIVER=${NUT_DRIVER:-/lib/nut/apcsmart}
NUT_UPSD=${NUT_UPSD:-/lib/nut/upsd}
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
rc_spawn() {
  local name=$1 logf=$2; shift 2
  "$@" </dev/null >"$logf" 2>&1 &
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
  printf '[admin]\n    password = secret\n    actions = SET\n    instcmds = ALL\n' \
    >"$NUT_DIR/etc/upsd.users"
  echo "MODE=standalone" >"$NUT_DIR/etc/nut.conf"
  chmod 640 "$NUT_DIR/etc/"*
  export NUT_CONFPATH=$NUT_DIR/etc NUT_STATEPATH=$NUT_DIR/state NUT_ALTPIDPATH=$NUT_DIR/state
  t0=$(rc_now)
  # -u root: the driver drops privileges before opening the port;
  # -D: debug log and foreground (so the pid is the driver's)
  rc_spawn apcsmart "$NUT_DIR/driver.log" "$NUT_DRIVER" -a sim -u root -D
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

# apc_start DEVICE: apcupsd -b (no UPSNAME in the config, so it reads `c`)
# with NIS on a free port; waits until apcaccess shows MODEL and STATUS.
# Sets APC_PID, APC_DIR, APC_NIS.  Returns non-zero after recording a failure.
APC_N=0
APC_PID=""
apc_start() {
  local dev=$1 t0
  APC_N=$((APC_N + 1))
  APC_DIR=$RC_TMP/apcupsd$APC_N
  APC_PORT=$(rc_free_port)
  APC_NIS=127.0.0.1:$APC_PORT
  apc_conf "$APC_DIR/apcupsd.conf" "$dev" "$APC_DIR" \
    "POLLTIME 60" "ONBATTERYDELAY 6" "BATTERYLEVEL 5" "MINUTES 3" "TIMEOUT 0" \
    "ANNOY 300" "ANNOYDELAY 60" "NOLOGON disable" "KILLDELAY 0" \
    "NETSERVER on" "NISIP 127.0.0.1" "NISPORT $APC_PORT" \
    "EVENTSFILE $APC_DIR/log/apcupsd.events" "EVENTSFILEMAX 10" \
    "UPSCLASS standalone" "UPSMODE disable" "STATTIME 0" \
    "STATFILE $APC_DIR/log/apcupsd.status" "LOGSTATS off" "DATATIME 0"
  t0=$(rc_now)
  rc_spawn apcupsd "$APC_DIR/apcupsd.log" "$APCUPSD_BIN" -b \
    -f "$APC_DIR/apcupsd.conf" -P "$APC_DIR/run/apcupsd.pid"
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
