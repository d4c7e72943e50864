"""Replay by command (`upssim --replay TRACE`, docs/trace.md) and
`upssim-trace`, on the installed binaries:

- a trace whose commands came in one order is answered right, by command,
  when the host asks in another order (over a different base profile);
- commands the trace never saw are answered by the profile, noted in the
  trace (`replay-miss X`) and listed at exit;
- the alerts the unit sent are replayed at their times;
- --replay-mode latest; a bad trace is refused like a bad profile (exit 3,
  file:line:col);
- a session recorded with --trace, turned into a regression test with
  `upssim-trace totest`: the harness script passes against the replay (the
  UPS side), and the scenario + trace serve a host the recorded replies
  (the host side);
- `upssim-trace import | check | commands` exit codes and output;
- a real `socat -x -v` dump of a session between a host and upssim,
  imported and replayed, answers as the session did.
"""
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
import tty

from upssim_proc import BIN, Check, Sim

c = Check("replay")
BINDIR = os.path.dirname(os.path.abspath(BIN)) if os.sep in BIN else ""
TOOL = os.path.join(BINDIR, "upssim-trace") if BINDIR else "upssim-trace"
HARNESS = os.path.join(BINDIR, "upsharness") if BINDIR else "upsharness"

# A recorded unit (an SU420: not the base profile's values) and a host that
# asked Y Q B ^A F, then Q B again; an alert `!` came 2.0 s after the
# host's first byte, `$` 3.0 s after it.
TRACE = r'''0.000 trace v1 side=ups recorded by hand
0.100 host-open
0.200 rx "Y"
0.201 tx "SM\r\n"
0.300 rx "Q"
0.301 tx "08\r\n"
0.400 rx "B"
0.401 tx "13.61\r\n"
0.500 rx "\x01"
0.501 tx "SMART-UPS 420   \r\n"
0.600 rx "F"
0.602 tx "49.98\r\n"
1.300 rx "Q"
1.301 tx "10\r\n"
1.400 rx "B"
1.401 tx "13.20\r\n"
2.200 tx "!"
3.200 tx "$"
'''


def run(*args, stdin=None, timeout=60):
    p = subprocess.run(list(args), capture_output=True, timeout=timeout,
                       input=stdin)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


with tempfile.TemporaryDirectory() as d:
    # what the base profile itself answers
    s = Sim("--profile", "smart-ups-1000-230")
    s.open()
    s.cmd("Y")
    base_L, base_n = s.cmd("L"), s.cmd("n")
    s.stop()
    tpath = os.path.join(d, "su420.trace")
    with open(tpath, "w") as f:
        f.write(TRACE)

    # ---- by command, in another order, over another profile ----------
    out = os.path.join(d, "out.trace")
    s = Sim("--replay", tpath, "--profile", "smart-ups-1000-230", "--trace", out)
    s.open()
    c.eq(s.cmd("Y"), b"SM", "Y")
    t0 = time.monotonic()
    c.eq(s.cmd("F"), b"49.98", "F asked first gets F's reply, not Q's")
    c.eq(s.cmd("\x01"), b"SMART-UPS 420   ", "^A")
    c.eq(s.cmd("B"), b"13.61", "B: its first reply")
    c.eq(s.cmd("Q"), b"08", "Q: its first reply")
    c.eq(s.cmd("Q"), b"10", "Q again: its second reply (sequence)")
    c.eq(s.cmd("Q"), b"10", "Q once more: the last reply again")
    c.eq(s.cmd("B"), b"13.20", "B again: its second reply")
    # never seen: the profile (an SU1000 230 V) answers
    c.eq(s.cmd("L"), base_L, "L (not in the trace): the profile answers")
    c.eq(s.cmd("n"), base_n, "n (not in the trace): the profile answers")
    # the recorded alerts: `!` 2 s after the host's first command
    got = s.read_for(max(0.0, 3.4 - (time.monotonic() - t0)))
    c(b"!" in got and b"$" in got and got.index(b"!") < got.index(b"$"),
      "the recorded alerts ! then $ arrive (%r)" % got)
    err = s.stop()
    c(re.search(r"^upssim: replay: 5 commands with 7 replies in the trace; 2 the "
                r"host sent were not, and the profile answered them: L \(x1\), n \(x1\)$",
                err, re.M) is not None, "exit summary lists the unseen commands: %r" % err)
    with open(out) as f:
        lines = f.read().splitlines()
    c(any(l.endswith(" replay-miss L") for l in lines), "trace note replay-miss L")
    c(any(l.endswith(" replay-miss n") for l in lines), "trace note replay-miss n")
    c(any(re.match(r'^\d+\.\d{3} tx "!"$', l) for l in lines), "the alert is in the trace")

    # ---- latest ----------------------------------------------------------
    s = Sim("--replay", tpath, "--replay-mode", "latest")
    s.open()
    s.cmd("Y")
    c.eq(s.cmd("Q"), b"10", "latest: Q's last reply first")
    c.eq(s.cmd("B"), b"13.20", "latest: B's last reply")
    s.stop()

    # ---- a bad trace ------------------------------------------------------
    bad = os.path.join(d, "bad.trace")
    with open(bad, "w") as f:
        f.write('0.1 rx "Y"\n0.2 tx "SM\\q"\n')
    rc, _, err = run(BIN, "--replay", bad)
    c.eq(rc, 3, "a bad trace: exit 3")
    c(re.search(r"bad\.trace:2:11: unknown escape", err) is not None,
      "a bad trace: file:line:col: %r" % err)
    rc, _, err = run(BIN, "--replay", os.path.join(d, "nope.trace"))
    c.eq(rc, 3, "a missing trace: exit 3 (%r)" % err)
    rc, _, err = run(BIN, "--replay-mode", "first")
    c.eq(rc, 2, "--replay-mode first: usage error")

    # ---- record, totest, run both sides ---------------------------------
    rec = os.path.join(d, "rec.trace")
    s = Sim("--profile", "smart-ups-3000rm-208", "--trace", rec)
    s.open()
    s.cmd("Y")
    want = {}
    for cmd in ["\x01", "b", "n", "m", "u", "l", "p", "Q", "L", "F", "f", "j",
                "B", "\x1a", "a", "c", "x", "g", "o"]:
        want[cmd] = s.cmd(cmd)
    s.cmd("Q")
    s.cmd("L")
    s.stop()
    tdir = os.path.join(d, "t")
    rc, outp, err = run(TOOL, "totest", rec, "-o", tdir, "--name", "rm3000")
    c.eq(rc, 0, "totest exits 0 (%r)" % err)
    files = outp.split()
    c.eq([os.path.basename(x) for x in files],
         ["rm3000.harness.yaml", "rm3000.scenario.yaml", "rm3000.trace",
          "rm3000.README"], "totest writes the script, scenario, trace, README")
    with open(os.path.join(tdir, "rm3000.scenario.yaml")) as f:
        scen = f.read()
    c("profile: smart-ups-3000rm-208" in scen,
      "the scenario names the profile from the trace header")
    # the UPS side: the harness against the replay, and against the profile
    env = dict(os.environ, UPSSIM_BIN=BIN)
    if os.access(HARNESS, os.X_OK):
        p = subprocess.run([HARNESS, "run", "rm3000.harness.yaml", "--sim",
                            "scenario:rm3000.scenario.yaml", "--sim-arg",
                            "--replay", "--sim-arg", "rm3000.trace"],
                           cwd=tdir, capture_output=True, env=env, timeout=120)
        o = p.stdout.decode(errors="replace")
        c.eq(p.returncode, 0, "harness script passes on the replay (%s)" % o[-600:])
        c(re.search(r"\d+ cases: (\d+) passed, 0 failed", o) is not None,
          "harness: all cases pass: %r" % o[-200:])
        p = subprocess.run([HARNESS, "run", "rm3000.harness.yaml", "--sim",
                            "smart-ups-3000rm-208"], cwd=tdir,
                           capture_output=True, env=env, timeout=120)
        c.eq(p.returncode, 0, "harness script passes on the profile itself (%s)"
             % p.stdout.decode(errors="replace")[-600:])
        p = subprocess.run([HARNESS, "run", "rm3000.harness.yaml", "--sim",
                            "smart-ups-1500"], cwd=tdir,
                           capture_output=True, env=env, timeout=120)
        c.eq(p.returncode, 1, "and fails on another unit")
    else:
        c(False, "upsharness next to upssim (%s)" % HARNESS)
    # the host side: the scenario and the trace serve the recorded replies
    s = Sim("--scenario", os.path.join(tdir, "rm3000.scenario.yaml"),
            "--replay", os.path.join(tdir, "rm3000.trace"))
    s.open()
    s.cmd("Y")
    for cmd in ["F", "\x1a", "n", "\x01", "Q", "a"]:
        c.eq(s.cmd(cmd), want[cmd], "served: %r" % cmd)
    err = s.stop()
    c("every command the host sent was in it" in err, "no misses: %r" % err)

    # ---- upssim-trace import / check / commands --------------------------
    rc, outp, err = run(TOOL, "check", tpath)
    c.eq(rc, 0, "check exits 0")
    c("5 commands, 7 replies, 2 alerts" in outp, "check counts: %r" % outp)
    rc, outp, err = run(TOOL, "check", bad)
    c.eq(rc, 3, "check: a bad trace exits 3")
    c("bad.trace:2:11:" in err, "check: file:line:col (%r)" % err)
    rc, outp, err = run(TOOL, "commands", tpath)
    c.eq(rc, 0, "commands exits 0")
    c('Q: "08" "10"' in outp, "commands lists Q's replies in order: %r" % outp)
    c("alert ! at 2.000 s" in outp, "commands lists the alerts")
    dev = os.path.join(d, "x.dev")
    with open(dev, "w") as f:
        f.write("battery.charge: 87.0\nbattery.runtime: 1200\nups.status: OB\n")
    rc, outp, err = run(TOOL, "import", dev)
    c.eq(rc, 0, "import a .dev (guessed) exits 0 (%r)" % err)
    c('tx "0020:\\r\\n" nut-dev battery.runtime' in outp, "import: j rebuilt: %r" % outp)
    rc, outp, err = run(TOOL, "import", "--from", "nut", dev)
    c.eq(rc, 3, "import --from nut of a .dev: exit 3")
    rc, outp, err = run(TOOL, "import", "--from", "xml", dev)
    c.eq(rc, 2, "import --from xml: usage")
    rc, outp, err = run(TOOL, "frobnicate")
    c.eq(rc, 2, "unknown command: usage")
    imp = os.path.join(d, "x.trace")
    rc, _, _ = run(TOOL, "import", dev, "-o", imp)
    s = Sim("--replay", imp)
    s.open()
    s.cmd("Y")
    c.eq(s.cmd("f"), b"87.0", "a .dev replayed: f")
    c.eq(s.cmd("Q"), b"10", "a .dev replayed: Q from ups.status OB")
    s.stop()

    # ---- a socat -x -v dump of a session, imported and replayed ---------
    if shutil.which("socat"):
        s = Sim("--profile", "smart-ups-420-230")
        host = os.path.join(d, "host-pty")
        dump = os.path.join(d, "socat.log")
        with open(dump, "wb") as log:
            so = subprocess.Popen(["socat", "-d", "-d", "-x", "-v",
                                   "pty,raw,echo=0,link=" + host,
                                   s.path + ",raw,echo=0"], stderr=log)
        # wait until socat has both ends open (its -d -d notice), so no
        # byte of the session is sent before the dump can show it
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(dump, "rb") as f:
                if b"starting data transfer loop" in f.read():
                    break
            time.sleep(0.02)
        fd = os.open(host, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)

        def ask(b):
            os.write(fd, b)
            buf, end = b"", time.monotonic() + 3
            while not buf.endswith(b"\r\n") and time.monotonic() < end:
                if select.select([fd], [], [], 0.1)[0]:
                    buf += os.read(fd, 4096)
            return buf
        seen = {}
        for b in [b"Y", b"\x01", b"b", b"n", b"B", b"L", b"\x1a", b"u"]:
            seen[b] = ask(b)
        os.close(fd)
        so.terminate()
        so.wait(10)
        s.stop()
        imp = os.path.join(d, "socat.trace")
        rc, _, err = run(TOOL, "import", dump, "-o", imp)
        c.eq(rc, 0, "import a real socat -x -v dump (%r)" % err)
        s = Sim("--replay", imp)
        s.open()
        for b in [b"Y", b"u", b"\x1a", b"L", b"B", b"n", b"b", b"\x01"]:
            s.send(b)
            c.eq(s.read_until(b"\r\n"), seen[b], "socat dump replayed: %r" % b)
        err = s.stop()
        c("every command the host sent was in it" in err, "socat: no misses (%r)" % err)
    else:
        c(False, "socat installed")

c.done()
