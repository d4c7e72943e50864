"""The command line: help, version, profile listing, errors with exit codes,
the ready banner, --link/--mode/--owner, and clean exit on SIGTERM/SIGINT."""
import re
import time
import os
import pwd
import signal
import stat
import tempfile

from upssim_proc import Check, Sim, run

c = Check("cli")

rc, out, err = run("--help")
c.eq(rc, 0, "--help exits 0")
c("--profile" in out and "--list-profiles" in out and "Exit status" in out,
  "--help documents options and exit codes")

rc, out, _ = run("--version")
c(rc == 0 and out.startswith("upssim "), "--version: %r" % out)

rc, out, _ = run("--list-profiles")
names = [line.split()[0] for line in out.splitlines() if line.strip()]
c.eq(rc, 0, "--list-profiles exits 0")
for want in ("smart-ups-1500", "smart-ups-1000-230", "smart-ups-3000rm-208",
             "smart-ups-1000-100", "smart-ups-400", "matrix-ups-5000",
             "smart-ups-vs-420", "back-ups-pro-650", "smart-ups-rt-1000-xl"):
    c(want in names, "profile %s is listed" % want)
c([l.split()[0] for l in out.splitlines() if "(default)" in l] == ["smart-ups-1500"],
  "exactly the default profile is marked")

rc, _, err = run("--bogus")
c.eq(rc, 2, "unknown option exits 2")
rc, _, err = run("--mode", "9x")
c.eq(rc, 2, "bad --mode exits 2")
rc, _, err = run("--profile", "no-such-unit")
c.eq(rc, 3, "unknown profile exits 3")
c("no-such-unit" in err and "--list-profiles" in err, "unknown profile says how to list: %r" % err)

with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "bad.yaml")
    with open(bad, "w") as f:
        f.write("description: \"x\"\nfamily: smart-ups-3g\nbattery:\n  nonsense: 1\n")
    rc, _, err = run("--profile", bad)
    c.eq(rc, 3, "invalid profile file exits 3")
    c(err.startswith("upssim: %s:4:3: " % bad), "error reads file:line:col: %r" % err)

    rc, _, err = run("--device", os.path.join(d, "nope"))
    c.eq(rc, 4, "missing --device exits 4")
    rc, _, err = run("--device", bad)
    c.eq(rc, 4, "--device on a non-tty exits 4")
    c("not a terminal" in err, "non-tty message: %r" % err)

    # banner, link, mode
    link = os.path.join(d, "ups")
    s = Sim("--link", link, "--mode", "0660")
    banner = s.read_banner(12)
    c.eq(s.path, link, "first line is the link path")
    c(os.path.islink(link) and os.readlink(link).startswith("/dev/pts/"), "link points at a pty")
    c.eq(stat.S_IMODE(os.stat(link).st_mode), 0o660, "--mode applied")
    text = "\n".join(banner)
    c("driver = apcsmart" in text and ("port = %s" % link) in text, "NUT stanza printed")
    c("UPSTYPE apcsmart" in text and ("DEVICE %s" % link) in text, "apcupsd lines printed")
    s.open()
    s.smart()
    c.eq(s.cmd("Q"), b"08", "answers through the link")
    err = s.stop(signal.SIGTERM)
    c.eq(s.proc.returncode, 0, "SIGTERM: clean exit 0")
    c(not os.path.lexists(link), "link removed on exit")

    # an existing regular file is never replaced
    with open(link, "w") as f:
        f.write("keep")
    rc, _, err = run("--link", link)
    c.eq(rc, 4, "--link onto a regular file exits 4")
    c.eq(open(link).read(), "keep", "regular file left alone")
    os.unlink(link)

    # default mode 0600; --owner
    s = Sim()
    c.eq(stat.S_IMODE(os.stat(s.path).st_mode), 0o600, "default mode 0600")
    s.stop(signal.SIGINT)
    c.eq(s.proc.returncode, 0, "SIGINT: clean exit 0")
    try:
        nobody = pwd.getpwnam("nobody")
        s = Sim("--owner", "nobody")
        c.eq(os.stat(s.path).st_uid, nobody.pw_uid, "--owner sets the uid")
        s.stop()
    except KeyError:
        pass
    rc, _, err = run("--owner", "no-such-user-xyz")
    c.eq(rc, 2, "unknown --owner exits 2")

# -v: one trace line per event, "<seconds> rx|tx \"escaped bytes\""
s = Sim("-v")
s.open()
s.smart()
s.cmd("\x01")
err = s.stop()
lines = err.splitlines()
c(any(re.match(r'^\d+\.\d{3} rx "Y"$', l) for l in lines), "trace shows rx \"Y\": %r" % lines[:6])
c(any(re.match(r'^\d+\.\d{3} tx "SM\\r\\n"$', l) for l in lines), "trace shows tx \"SM\\r\\n\"")
c(any(re.match(r'^\d+\.\d{3} rx "\\x01"$', l) for l in lines), "control bytes escaped as \\xNN")
c(any(re.match(r'^\d+\.\d{3} host-open$', l) for l in lines), "host opens are traced")

# --speed: model time runs faster (the clock seam): the 8 s self-test
# finishes in about 1 s at 8x
with Sim("--speed", "8") as s:
    s.open()
    s.smart()
    t0 = time.monotonic()
    c.eq(s.cmd("W"), b"OK", "W at 8x")
    while s.cmd("X") != b"OK" and time.monotonic() - t0 < 8:
        s.read_for(0.05)
    took = time.monotonic() - t0
    c(0.5 < took < 3.0, "8 s self-test took %.2f s at --speed 8" % took)
rc, _, err = run("--speed", "0")
c.eq(rc, 2, "--speed 0 is refused")
c.done()
