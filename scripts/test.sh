#!/usr/bin/env bash
# Build upssim and run every test (unit, fuzz-corpus replay, integration on
# real ptys, real NUT and apcupsd clients).  Environment knobs:
#   UPSSIM_BUILD_DIR    build directory (default: build)
#   UPSSIM_SANITIZE     ON for an ASan/UBSan build (default: OFF)
#   UPSSIM_TEST_LABELS  ctest label regex (default: all tests)
#   UPSSIM_TEST_JOBS    tests run at once (default: 4)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${UPSSIM_BUILD_DIR:-build}
cmake -S . -B "$B" -DUPSSIM_SANITIZE="${UPSSIM_SANITIZE:-OFF}" >/dev/null
cmake --build "$B" -j"$(nproc)"
# Tests run in parallel: each keeps to its own temp dir, ptys and ports,
# and most of their time is spent waiting on the clients' poll intervals.
args=(--test-dir "$B" --output-on-failure -j "${UPSSIM_TEST_JOBS:-4}")
[ -n "${UPSSIM_TEST_LABELS:-}" ] && args+=(-L "$UPSSIM_TEST_LABELS")
ctest "${args[@]}"
