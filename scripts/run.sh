#!/usr/bin/env bash
# Install what is missing, build, and start the simulator on its default
# profile.  Extra arguments go to upssim (see: upssim --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec ./build/upssim "$@"
