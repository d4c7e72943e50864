#!/usr/bin/env bash
# NUT device dumps as profiles, judged by NUT 2.8.0 itself: every dump in
# tests/data/nut-ddl/APC is imported (`upssim --import-nut-dump`), each
# profile runs in its own upssim, one apcsmart driver per unit (started
# once) and one upsd serve them all; then for every unit
#   - each static variable of the dump (identity, firmware, settings,
#     nominal values, packs) shows in `upsc` with the dump's value, or
#     differs for a reason nut_dump_compare.py states (an older NUT named
#     or read it differently, or the dump lacked it and the importer's
#     `# guess:` comment says what it chose);
#   - the ENUM choices of the dump's #RW lines are upsrw's choices, and
#     the instant commands of its #CMD lines are upscmd -l's;
#   - readings are printed next to the dump's, not compared (they move).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rc_require_root
rc_require_clients nut

DATA=$UPSSIM_SOURCE_DIR/tests/data/nut-ddl/APC
mapfile -t DUMPS < <(ls "$DATA"/*.dev 2>/dev/null)
check_ok "tests/data/nut-ddl/APC holds the 13 apcsmart dumps" test "${#DUMPS[@]}" -ge 13

# ---- 1. import each dump and serve it
SIMS=()
for ((i = 0; i < ${#DUMPS[@]}; i++)); do
  u=u$i
  if ! "$UPSSIM_BIN" --import-nut-dump "${DUMPS[$i]}" >"$RC_TMP/$u.yaml" 2>"$RC_TMP/$u.import.err"; then
    rc_tail "$RC_TMP/$u.import.err"
    rc_abort "upssim --import-nut-dump $(basename "${DUMPS[$i]}")"
  fi
  rc_spawn "upssim $u" "$RC_TMP/$u.sim.log" "$UPSSIM_BIN" --profile "$RC_TMP/$u.yaml" \
    --link "$RC_TMP/$u.tty"
  SIMS+=("$RC_LAST_PID")
done
for ((i = 0; i < ${#DUMPS[@]}; i++)); do
  if ! wait_until 10 test -e "$RC_TMP/u$i.tty"; then
    rc_tail "$RC_TMP/u$i.sim.log"
    rc_abort "upssim serves the profile imported from $(basename "${DUMPS[$i]}")"
  fi
done
pass "upssim serves all ${#DUMPS[@]} imported profiles"

# ---- 2. one driver per unit, one upsd for all
NUT_DIR=$RC_TMP/nut
mkdir -p "$NUT_DIR/etc" "$NUT_DIR/state"
NUT_PORT=$(rc_free_port)
for ((i = 0; i < ${#DUMPS[@]}; i++)); do
  printf '[u%d]\n    driver = apcsmart\n    port = %s\n    desc = "%s"\n' \
    "$i" "$RC_TMP/u$i.tty" "$(basename "${DUMPS[$i]}" .dev)"
done >"$NUT_DIR/etc/ups.conf"
echo "LISTEN 127.0.0.1 $NUT_PORT" >"$NUT_DIR/etc/upsd.conf"
printf '[admin]\n    password = secret\n    actions = SET\n    instcmds = ALL\n' \
  >"$NUT_DIR/etc/upsd.users"
echo "MODE=standalone" >"$NUT_DIR/etc/nut.conf"
chmod 640 "$NUT_DIR/etc/"*
export NUT_CONFPATH=$NUT_DIR/etc NUT_STATEPATH=$NUT_DIR/state NUT_ALTPIDPATH=$NUT_DIR/state
t0=$(rc_now)
DRIVERS=()
for ((i = 0; i < ${#DUMPS[@]}; i++)); do
  rc_spawn "apcsmart u$i" "$NUT_DIR/driver-u$i.log" "$NUT_DRIVER" -a "u$i" -u root -D
  DRIVERS+=("$RC_LAST_PID")
done
drivers_up() {
  local i
  for ((i = 0; i < ${#DUMPS[@]}; i++)); do
    rc_alive "${DRIVERS[$i]}" || return 1
    [ -S "$NUT_DIR/state/apcsmart-u$i" ] || return 1
  done
}
if ! wait_until 60 drivers_up; then
  for ((i = 0; i < ${#DUMPS[@]}; i++)); do
    [ -S "$NUT_DIR/state/apcsmart-u$i" ] || rc_tail "$NUT_DIR/driver-u$i.log"
  done
  rc_abort "all ${#DUMPS[@]} apcsmart drivers came up within 60 s"
fi
pass "all ${#DUMPS[@]} apcsmart drivers up after $(rc_elapsed "$t0")s"
rc_spawn upsd "$NUT_DIR/upsd.log" "$NUT_UPSD" -u root -F
UPSD_PID=$RC_LAST_PID
all_status() {
  local i
  rc_alive "$UPSD_PID" || return 1
  for ((i = 0; i < ${#DUMPS[@]}; i++)); do
    [ -n "$(upsc "u$i@127.0.0.1:$NUT_PORT" ups.status 2>/dev/null)" ] || return 1
  done
}
if ! wait_until 30 all_status; then
  rc_tail "$NUT_DIR/upsd.log"
  rc_abort "upsd reports ups.status of every unit within 30 s"
fi
pass "upsd reports every unit ($(rc_elapsed "$t0")s after the drivers started)"

# ---- 3. compare each unit with its dump
for ((i = 0; i < ${#DUMPS[@]}; i++)); do
  name=$(basename "${DUMPS[$i]}" .dev)
  log "=== $name"
  upsc "u$i@127.0.0.1:$NUT_PORT" >"$RC_TMP/u$i.upsc" 2>/dev/null
  upsrw "u$i@127.0.0.1:$NUT_PORT" >"$RC_TMP/u$i.upsrw" 2>/dev/null
  upscmd -l "u$i@127.0.0.1:$NUT_PORT" >"$RC_TMP/u$i.upscmd" 2>/dev/null
  while IFS=$'\t' read -r kind text; do
    case $kind in
      PASS) pass "[$name] $text" ;;
      FAIL) fail "[$name] $text" ;;
      NOTE) echo "#   $text" ;;
      *) fail "[$name] nut_dump_compare.py said: $kind $text" ;;
    esac
  done < <(python3 "$RC_LIB_DIR/nut_dump_compare.py" "${DUMPS[$i]}" \
             "$RC_TMP/u$i.upsc" "$RC_TMP/u$i.yaml" "$RC_TMP/u$i.upsrw" \
             "$RC_TMP/u$i.upscmd" 2>&1)
done

# ---- 4. stop: upsd, the drivers, then every upssim (exit 0 on SIGTERM).
# A driver ends its session with R and waits for the reply (3 s on a unit
# without R): all get SIGTERM at once, then each is waited for.
stop_all() {  # PID...: SIGTERM all, wait up to 10 s, then rc_stop each
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
  none_alive() { local p; for p in "$@"; do rc_alive "$p" && return 1; done; return 0; }
  wait_until 10 none_alive "$@" || true
}
stop_all "$UPSD_PID" "${DRIVERS[@]}"
for pid in "$UPSD_PID" "${DRIVERS[@]}"; do rc_stop "$pid" 2; done
bad=0
for pid in "${SIMS[@]}"; do rc_alive "$pid" || bad=$((bad + 1)); done
stop_all "${SIMS[@]}"
for pid in "${SIMS[@]}"; do
  rc_stop "$pid" 2
  [ "$RC_STOP_STATUS" = 0 ] || bad=$((bad + 1))
done
check_eq "upssim processes that ran to the end and exited 0 on SIGTERM" \
  "${#SIMS[@]}" "$((${#SIMS[@]} - bad))"
