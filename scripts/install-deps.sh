#!/usr/bin/env bash
# Install what upssim needs to build and to run its whole test suite on
# Debian 12: compilers, libyaml, libserialport, cmocka, socat, gnuplot (for
# scripts/plot-timeline.sh), python3-junitparser (the harness tests read
# their JUnit XML with it too), and the real host programs the tests use as
# judges (NUT from apt; apcupsd unpacked into /opt/apcupsd-root because its
# package conflicts with NUT's).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
PKGS=(build-essential cmake pkg-config libyaml-dev libserialport-dev libcmocka-dev
      socat python3 python3-yaml python3-junitparser nut-server nut-client libusb-0.1-4
      libwrap0 lsb-base gnuplot-nox)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -x /opt/apcupsd-root/sbin/apcupsd ]; then
  tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download apcupsd >/dev/null 2>&1 || { $SUDO apt-get update -qq && apt-get download apcupsd; } )
  $SUDO dpkg -x "$tmp"/apcupsd_*.deb /opt/apcupsd-root
  rm -rf "$tmp"
fi
echo "dependencies ready"
