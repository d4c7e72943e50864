"""upsharness against the installed simulator: a script passes on
--sim; JUnit XML and TAP are accepted by their consumers; destructive and
undocumented bytes are refused before anything is sent; an interrupted run
puts back the EEPROM values it changed; --port refuses ptys and missing
ports with a clear message; record -> run round trips and catches a
changed unit; a target that stops answering gives exit 3; malformed
scripts give file:line:col and exit 2; conform detects the model.

Scripts and scenarios used here are in tests/integration/harness/.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

from upssim_proc import BIN, SRC, Check, Sim

c = Check("harness")
HARNESS = os.environ.get("UPSSIM_HARNESS",
                         os.path.join(os.path.dirname(BIN), "upsharness"))
HERE = os.path.join(SRC, "tests", "integration", "harness")
TMP = tempfile.mkdtemp(prefix="upsharness-test-")
ENV = dict(os.environ, UPSSIM_BIN=BIN)


def path(name):
    return os.path.join(HERE, name)


def harness(*args, timeout=120):
    p = subprocess.run([HARNESS, *args], capture_output=True, timeout=timeout,
                       env=ENV, cwd=HERE)
    return (p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace"))


def wait_trace(trace, needle, timeout=30):
    """Wait until the harness's --trace file holds @needle (an event, not
    a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if needle in open(trace, "rb").read():
                return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return False


def read_value(sim, cmd):
    """A fresh host session on the simulator's pty: Y, then cmd."""
    sim.open()
    try:
        sim.send(b"Y")
        sim.read_until(b"\r\n")
        sim.send(cmd)
        return sim.read_until(b"\r\n")
    finally:
        sim.close()


# ---- help, version ----
rc, out, _ = harness("--help")
c.eq(rc, 0, "--help exits 0")
for word in ("run SCRIPT", "conform", "record", "--port", "--device", "--sim",
             "--allow-destructive", "--dry-run", "--junit", "--tap",
             "Exit status"):
    c(word in out, "--help mentions %s" % word)
rc, out, _ = harness("--version")
c(rc == 0 and out.startswith("upsharness "), "--version: %r" % out)
rc, _, err = harness("run", path("smoke.yaml"))
c.eq(rc, 2, "no target: usage error")
c("--sim" in err, "the usage error says how to give a target")
rc, _, err = harness("frobnicate")
c.eq(rc, 2, "unknown command: exit 2")

# ---- a small script passes on --sim; JUnit and TAP ----
junit = os.path.join(TMP, "smoke.xml")
rc, out, err = harness("run", path("smoke.yaml"), "--sim", "smart-ups-1500",
                       "--junit", junit)
c.eq(rc, 0, "smoke.yaml passes on --sim smart-ups-1500 (%s%s)" % (out, err))
c("ok    smoke/model-name" in out, "a passing case is listed")
c(re.search(r"skip  smoke/measure-ups-temperature: no Measure-UPS", out),
  "a case needing a Measure-UPS is skipped with the reason: %r" % out)
tree = ET.parse(junit)
root = tree.getroot()
c.eq(root.tag, "testsuites", "JUnit root element")
cases = root.findall("./testsuite/testcase")
c.eq(len(cases), 6, "JUnit: every case has a testcase")
status = {tc.get("name"): ("skipped" if tc.find("skipped") is not None else
                           "failure" if tc.find("failure") is not None else
                           "pass") for tc in cases}
c.eq(status.get("model-name"), "pass", "JUnit: model-name passed")
c.eq(status.get("measure-ups-temperature"), "skipped", "JUnit: skipped case")
c.eq(root.find("testsuite").get("skipped"), "1", "JUnit: skipped count")
try:
    try:
        import junitparser
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        import junitparser
    xmlres = junitparser.JUnitXml.fromfile(junit)
    n = sum(1 for suite in xmlres for _ in suite)
    c.eq(n, 6, "junitparser reads every testcase")
except ImportError:
    print("note: python3-junitparser not installed; xml.etree only")

rc, out, err = harness("run", path("smoke.yaml"), "--sim", "smart-ups-1500",
                       "--tap")
c.eq(rc, 0, "--tap run passes")
c(out.startswith("TAP version 13\n1..6\n"), "TAP header and plan: %r" % out[:40])
c("# SKIP" in out, "TAP marks the skipped case")
tap = os.path.join(TMP, "smoke.tap")
with open(tap, "w") as f:
    f.write(out)
if shutil.which("prove"):
    p = subprocess.run(["prove", "-e", "cat", tap], capture_output=True)
    c.eq(p.returncode, 0, "prove accepts the TAP: %r" % p.stdout[-300:])
    bad = os.path.join(TMP, "fail.tap")
    wrong = os.path.join(TMP, "wrong.yaml")
    with open(wrong, "w") as f:
        f.write("cases:\n  - name: wrong-model\n    steps:\n"
                "      - {send: Y, expect: SM}\n"
                "      - {send: \"^A\", expect: Smart-UPS 1400}\n")
    rc, out, _ = harness("run", wrong, "--sim", "smart-ups-1500", "--tap")
    c.eq(rc, 1, "a failing --tap run exits 1")
    c("not ok 1 - wrong/wrong-model" in out and "  ---" in out,
      "TAP: not ok with a YAML diagnostic block: %r" % out)
    with open(bad, "w") as f:
        f.write(out)
    p = subprocess.run(["prove", "-e", "cat", bad], capture_output=True)
    c(p.returncode != 0 and b"Failed 1/1" in p.stdout,
      "prove sees the failing run fail: %r" % p.stdout[-300:])
else:
    print("note: prove not installed")

# ---- K refused before a byte is sent (simulator's -v trace) ----
def marker_then_log(sim, trace):
    """Open the pty as a host after the harness has exited and send Y: its
    reply means every byte anyone wrote before is in the -v trace."""
    sim.open()
    sim.smart()
    sim.close()
    sim.wait_stderr('tx "SM', 5)
    return open(trace, "rb").read()


def first_rx(log):
    for line in log.splitlines():
        f = line.split(b" ", 2)
        if len(f) == 3 and f[1] == b"rx":
            return b"rx " + f[2]
    return None


trace = os.path.join(TMP, "sim-trace.log")
sim = Sim("-v", stderr_path=trace)
rc, out, err = harness("run", path("destructive.yaml"), "--device", sim.path)
c.eq(rc, 2, "K on --device without --allow-destructive: exit 2")
c('case "turn-off"' in err and "step 2 sends K" in err and
  "--allow-destructive" in err and "destructive.yaml:" in err,
  "the refusal names the script, case, step, byte and the flag: %r" % err)
c("nothing was sent" in err, "the refusal says nothing was sent")
sim_log = marker_then_log(sim, trace)
c(first_rx(sim_log) == b'rx "Y"' and sim_log.count(b"host-open") == 1,
  "the simulator saw no byte before our own Y: %r" % sim_log[-300:])
# the same through --sim and --sim-arg -v: not even started
simlog = os.path.join(TMP, "sim2.log")
rc, _, err = harness("run", path("destructive.yaml"), "--device", sim.path,
                     "--dry-run")
c.eq(rc, 2, "--dry-run checks safety too")
rc, out, err = harness("run", path("destructive.yaml"), "--device", sim.path,
                       "--allow-destructive")
c.eq(rc, 0, "with --allow-destructive K runs: %s%s" % (out, err))
sim.stop()
rc, out, err = harness("run", path("destructive.yaml"), "--sim",
                       "smart-ups-1500", "--sim-arg", "-v", "--sim-log", simlog)
c.eq(rc, 0, "--sim needs no flag for K: %s%s" % (out, err))
log = open(simlog, "rb").read()
c(b'rx "K"' in log, "the simulator's -v trace (--sim-arg -v) shows the K")

# ---- dry run sends nothing ----
trace = os.path.join(TMP, "sim-trace3.log")
sim = Sim("-v", stderr_path=trace)
rc, out, err = harness("run", path("smoke.yaml"), "--device", sim.path,
                       "--dry-run")
c.eq(rc, 0, "--dry-run exits 0")
c('send "\\x01"' in out and "nothing was sent" in out,
  "--dry-run lists what would be sent: %r" % out[:400])
sim_log = marker_then_log(sim, trace)
c(first_rx(sim_log) == b'rx "Y"' and sim_log.count(b"host-open") == 1,
  "--dry-run sent nothing (the first byte the simulator saw is our Y)")

# ---- undocumented byte on --port; --port on a pty; missing port ----
rc, _, err = harness("run", path("undocumented.yaml"), "--port", sim.path,
                     "--dry-run")
c.eq(rc, 2, "undocumented d refused on --port")
c("not a documented UPS-Link command" in err and 'case "self-test-hours"' in err,
  "the message says why: %r" % err)
rc, out, err = harness("run", path("undocumented.yaml"), "--device", sim.path)
c.eq(rc, 0, "d allowed on a pty --device (a simulator): %s%s" % (out, err))
rc, _, err = harness("run", path("smoke.yaml"), "--port", sim.path)
c.eq(rc, 3, "--port on a pty: exit 3")
c(sim.path in err and "pseudo-terminal" in err and "--device" in err,
  "the message names the port, the reason and --device: %r" % err)
rc, _, err = harness("run", path("smoke.yaml"), "--port", "/nonexistent")
c.eq(rc, 3, "--port /nonexistent: exit 3")
c("/nonexistent" in err and "No such file" in err, "clear message: %r" % err)
rc, out, err = harness("--list-ports")
c.eq(rc, 0, "--list-ports runs: %r" % err)

# ---- an interrupted run restores the EEPROM values it changed ----
before = {cmd: read_value(sim, cmd) for cmd in (b"k", b"E", b"c")}
htrace = os.path.join(TMP, "harness-trace.log")
p = subprocess.Popen([HARNESS, "run", path("edits.yaml"), "--device", sim.path,
                      "--trace", htrace], stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=ENV)
c(wait_trace(htrace, b'rx "TESTNAME\\r\\n"'), "the run got to its wait step")
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=60)
out, err = out.decode(), err.decode()
c.eq(p.returncode, 1, "an interrupted run exits 1")
c("interrupted" in out + err, "it says it was interrupted")
c("restore: 3 EEPROM value(s)" in out, "it reports the restore: %r" % out)
after = {cmd: read_value(sim, cmd) for cmd in (b"k", b"E", b"c")}
c.eq(after, before, "a fresh session reads the original k, E and c")
sim.stop()

# ---- record -> run round trip; a changed unit fails ----
rec = os.path.join(TMP, "recorded.yaml")
rc, out, err = harness("record", path("identity.yaml"), "--sim",
                       "smart-ups-1500", "-o", rec)
c.eq(rc, 0, "record exits 0: %s" % err)
text = open(rec).read()
c("expect: 'AS0413231246'" in text, "the serial number is frozen: %r" % text[:600])
c('match: "[0-9]{3}\\\\.[0-9]", record: keep' in text,
  "record: keep steps stay as written")
rc, out, err = harness("run", rec, "--sim", "smart-ups-1500")
c.eq(rc, 0, "the recording passes on the same unit: %s%s" % (out, err))
rc, out, err = harness("run", rec, "--sim", path("other-serial.yaml"))
c.eq(rc, 1, "the recording fails on a unit with another serial")
c("FAIL  identity/serial-and-dates" in out and '"AS0413231246\\r\\n"' in out
  and '"AS0999999999\\r\\n"' in out,
  "the failure names the case and shows both replies: %r" % out)

# ---- alerts inside a reply are recorded, matching still passes ----
junit = os.path.join(TMP, "alerts.xml")
rc, out, err = harness("run", path("alerts.yaml"), "--sim",
                       path("alert-inside.yaml"), "--junit", junit)
c.eq(rc, 0, "an alert inside a reply does not break matching: %s%s" % (out, err))
outs = [e.text or "" for e in ET.parse(junit).getroot().iter("system-out")]
c(any('alerts: "!"' in t for t in outs), "the alert is recorded: %r" % outs)

# ---- a target that stops answering: exit 3 ----
rc, out, err = harness("run", path("goes-quiet.yaml"), "--sim",
                       path("comms-lost.yaml"))
c.eq(rc, 3, "a target that stops answering: exit 3 (%s%s)" % (out, err))
c("does not answer" in err, "it says so: %r" % err)
c("not run" in out, "cases after it are not run: %r" % out)

sim = Sim()
gtrace = os.path.join(TMP, "gone-trace.log")
p = subprocess.Popen([HARNESS, "run", path("gone.yaml"), "--device", sim.path,
                      "--trace", gtrace],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
c(wait_trace(gtrace, b'rx "SM\\r\\n"'), "the run got to its wait step")
sim.stop()
out, err = p.communicate(timeout=60)
c.eq(p.returncode, 3, "the device hangs up mid-run: exit 3 (%r)" % err)
c(b"hung up" in err, "it says the target hung up: %r" % err)

# ---- malformed scripts: file:line:col and exit 2 ----
bad = os.path.join(TMP, "bad.yaml")
with open(bad, "w") as f:
    f.write("cases:\n  - name: x\n    steps:\n      - send: Y\n        expetc: SM\n")
rc, _, err = harness("run", bad, "--sim", "smart-ups-1500")
c.eq(rc, 2, "a malformed script exits 2")
c(re.search(r"bad\.yaml:5:9: unknown key in a step \(did you mean \"expect\"\?\)",
            err), "file:line:col with a suggestion: %r" % err)

# ---- --case selects cases ----
rc, out, err = harness("run", path("smoke.yaml"), "--sim", "smart-ups-1500",
                       "--case", "smoke/status-*")
c(rc == 0 and "1 case: 1 passed" in out, "--case with a pattern: %r" % out)

# ---- conform: detection, skips by family and command set ----
suite = path("suite")
rc, out, err = harness("conform", "--sim", "smart-ups-1500", "--suite", suite)
c.eq(rc, 0, "conform passes on the default unit: %s%s" % (out, err))
c(re.search(r"detected: Smart-UPS 1500, firmware 601\.3\.D / FWD, family 3G, "
            r"UPS-Link level 3", out), "conform prints what it detected: %r" % out)
c("skip  conform-identity/matrix-bypass: target family is 3G" in out,
  "a Matrix-only case is skipped on a 3G unit")
rc, out, err = harness("conform", "--sim", "smart-ups-400", "--suite", suite)
c.eq(rc, 0, "conform on the old Smart-UPS 400: %s%s" % (out, err))
c("family old" in out and "no a reply" in out, "old unit detected: %r" % out)
c("skip  conform-identity/eeprom-dump: target does not support ^Z" in out,
  "no ^Z on an old unit: skipped with the reason")
rc, out, err = harness("conform", "--sim", "matrix-ups-5000", "--suite", suite)
c("family Matrix" in out and "ok    conform-identity/matrix-bypass" in out,
  "a Matrix runs its bypass case: %r" % out)

# ---- conform with the shipped suite (scenarios/conformance), if there ----
shipped = os.path.join(SRC, "scenarios", "conformance")
if os.path.isdir(shipped) and any(f.endswith(".yaml") for f in os.listdir(shipped)):
    junit = os.path.join(TMP, "conform.xml")
    rc, out, err = harness("conform", "--sim", "smart-ups-1500", "--suite",
                           shipped, "--junit", junit, timeout=280)
    c(rc in (0, 1), "conform runs the shipped suite (exit %d): %s" % (rc, err))
    c(re.search(r"detected: Smart-UPS 1500, .* family 3G", out),
      "conform prints the detected model")
    root = ET.parse(junit).getroot()
    n = len(root.findall("./testsuite/testcase"))
    c(n > 0 and root.get("errors") == "0", "every shipped case ran or was "
      "skipped (%d cases, errors %s)" % (n, root.get("errors")))
    if rc:
        print("note: conformance failures:\n" + "\n".join(
            l for l in out.splitlines() if not l.startswith(("ok", "skip"))))
else:
    print("note: no scenarios/conformance suite yet")

shutil.rmtree(TMP, ignore_errors=True)
c.done()
