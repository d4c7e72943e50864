#!/usr/bin/env bash
# Run the real-client acceptance tests without ctest (as root):
#   bash tests/realclient/run.sh [TEST_NAME...]
# UPSSIM_BIN selects the upssim under test (default: build/stage/bin/upssim,
# then upssim on PATH).  Prints each test's output and a summary line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export UPSSIM_SOURCE_DIR=${UPSSIM_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
if [ -z "${UPSSIM_BIN:-}" ]; then
  if [ -x "$UPSSIM_SOURCE_DIR/build/stage/bin/upssim" ]; then
    UPSSIM_BIN=$UPSSIM_SOURCE_DIR/build/stage/bin/upssim
  else
    UPSSIM_BIN=$(command -v upssim || echo upssim)
  fi
fi
export UPSSIM_BIN
tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(cd "$here" && ls test_*.sh)
ok=0; bad=0
for t in "${tests[@]}"; do
  t=${t%.sh}; t=${t##*/}
  echo "=== $t ($UPSSIM_BIN)"
  start=$(date +%s)
  if bash "$here/$t.sh"; then ok=$((ok + 1)); r=PASS; else bad=$((bad + 1)); r=FAIL; fi
  echo "=== $t: $r in $(( $(date +%s) - start )) s"
done
echo "$ok tests passed, $bad tests failed"
[ $bad -eq 0 ]
