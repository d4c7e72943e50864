"""upsharness conform: the shipped conformance suite on every shipped
profile, and on targets that must fail.

For every profile `upssim --list-profiles` names, `upsharness conform --sim
NAME --junit FILE --tap` runs the suite in scenarios/conformance/ (every
case of it); the run must exit 0, with every case passed or skipped with a
reason.  The JUnit XML is read back with xml.etree (and python3-junitparser
when it is installed): one testcase per case of the suite, in order, each
with its status; the TAP goes to `prove`.  Then targets that are wrong on
purpose must fail, name the failing case, show the expected and received
bytes, and exit as docs/harness.md says:

- tests/profiles/conform-wrong-firmware.yaml (a `b` reply with a two-letter
  country code) and conform-wrong-list.yaml (a three-value `p` list): exit
  1, exactly one case failed;
- a wire fault that corrupts one byte mid-run (`{wire: {corrupt: 1}}` on
  the simulator's --control socket, the harness on --device): exit 1;
- a unit that stops answering mid-run (`{wire: {comms: lost}}`): exit 3,
  the cases after it reported as not run.

Everything runs at once, one simulator per run, so the file takes about as
long as its slowest run (a 3G profile, about a minute).

KNOWN lists cases where a shipped profile contradicts the spec: they are
reported and must keep failing (a KNOWN case that passes is an error, so
the list stays true); the project lead decides the profiles.  The full
realistic-timing run is tests/integration/test_conform_realistic.py.

CONFORM_PROFILES=a,b limits the profile runs; CONFORM_VERBOSE=1 prints
every run's report.
"""
import filecmp
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import yaml

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
from upssim_proc import BIN, SRC, Check, Sim, run  # noqa: E402

c = Check("conform")
HARNESS = os.environ.get("UPSSIM_HARNESS") or os.path.join(os.path.dirname(BIN),
                                                           "upsharness")
SUITE = os.path.join(SRC, "scenarios", "conformance")
TESTPROF = os.path.join(SRC, "tests", "profiles")
TMP = tempfile.mkdtemp(prefix="upsharness-conform-")
VERBOSE = os.environ.get("CONFORM_VERBOSE") == "1"

# Cases a shipped profile fails because the profile, not the script,
# departs from the spec: (profile) -> {suite/case: why}.
KNOWN = {}


# --------------------------------------------------------------------------
# The suite as written: every case, in the order conform runs them

def suite_cases():
    out = []
    for f in sorted(os.listdir(SUITE)):
        if not f.endswith(".yaml"):
            continue
        with open(os.path.join(SUITE, f), encoding="utf-8") as fh:
            doc = yaml.load(fh, Loader=yaml.BaseLoader)  # every scalar a string
        name = doc.get("suite") or f[:-5]
        out += ["%s/%s" % (name, case["name"]) for case in doc["cases"]]
    return out


CASES = suite_cases()
c(len(CASES) >= 90, "the suite has its cases: %d" % len(CASES))
c(len(set(CASES)) == len(CASES), "case names are unique across the suite")

# conform looks for the suite next to the binary first (the staged
# install); use that copy when it is the source's, else point at the source
ENV = dict(os.environ, UPSSIM_BIN=BIN)
installed = os.path.join(os.path.dirname(os.path.abspath(HARNESS)), "..", "share",
                         "upssim", "scenarios", "conformance")
if os.path.isdir(installed):
    names = sorted(f for f in os.listdir(SUITE) if f.endswith((".yaml", ".md")))
    there = sorted(f for f in os.listdir(installed) if f.endswith((".yaml", ".md")))
    _, mismatch, errors = filecmp.cmpfiles(SUITE, installed, names, shallow=False)
    same = there == names and not mismatch and not errors
    c(same, "the installed suite %s is the source's (install again)" % installed)
    if not same:
        ENV["UPSHARNESS_SUITE"] = SUITE
else:
    ENV["UPSHARNESS_SUITE"] = SUITE


# --------------------------------------------------------------------------
# Reading a run back

class Run:
    """One upsharness process and what it left: exit status, stdout (TAP
    with --tap, else the human report), stderr, JUnit XML, wall time."""

    def __init__(self, label, junit):
        self.label, self.junit = label, junit
        self.rc, self.out, self.err, self.secs = None, "", "", 0.0
        self.notes = []        # (ok, message) for the main thread's Check
        self.known = []        # KNOWN failures seen
        self.status = {}
        self.block = ""        # the report of the failing case, to show

    def run(self, args, tap=True):
        t0 = time.monotonic()
        p = subprocess.run([HARNESS, *args, "--junit", self.junit] +
                           (["--tap"] if tap else []),
                           capture_output=True, timeout=280, env=ENV)
        self.secs = time.monotonic() - t0
        self.rc = p.returncode
        self.out = p.stdout.decode(errors="replace")
        self.err = p.stderr.decode(errors="replace")
        return self

    def check(self, cond, what):
        self.notes.append((bool(cond), "%s: %s" % (self.label, what)))
        return cond

    def show(self):
        return (self.out + self.err)[-3000:]


def junit_status(tc):
    if tc.find("failure") is not None:
        return "fail"
    if tc.find("skipped") is not None:
        return "skip"
    e = tc.find("error")
    if e is not None:
        return "notrun" if e.get("type") == "not-run" else "error"
    return "pass"


def check_junit(r):
    """JUnit XML: root and per-suite counts, one testcase per suite case in
    order, a reason on every skip, expected/received on every failure.
    Returns {suite/case: status}."""
    try:
        root = ET.parse(r.junit).getroot()
    except (ET.ParseError, OSError) as e:
        r.check(False, "JUnit XML does not parse: %s" % e)
        return {}
    r.check(root.tag == "testsuites", "JUnit root element is testsuites")
    status, order = {}, []
    for ts in root.findall("testsuite"):
        tcs = ts.findall("testcase")
        st = [junit_status(tc) for tc in tcs]
        r.check(int(ts.get("tests", -1)) == len(tcs),
                "testsuite %s: tests=%s, %d testcases" % (ts.get("name"), ts.get("tests"),
                                                          len(tcs)))
        for attr, key in (("failures", "fail"), ("skipped", "skip"), ("errors", "notrun")):
            r.check(int(ts.get(attr, -1)) == st.count(key),
                    "testsuite %s: %s=%s, counted %d" % (ts.get("name"), attr, ts.get(attr),
                                                         st.count(key)))
        for tc, s in zip(tcs, st):
            r.check(tc.get("classname") == ts.get("name"),
                    "testcase %s: classname %s" % (tc.get("name"), tc.get("classname")))
            full = "%s/%s" % (ts.get("name"), tc.get("name"))
            order.append(full)
            status[full] = s
            if s == "skip":
                r.check(tc.find("skipped").get("message", "").strip(),
                        "%s: skipped without a reason" % full)
            if s == "fail":
                f = tc.find("failure")
                text = f.text or ""
                r.check(f.get("message") and "expected:" in text and "received:" in text
                        and "spec:" in text,
                        "%s: the failure shows spec, expected and received: %r"
                        % (full, text[:300]))
    r.check(order == CASES, "JUnit lists every case of the suite, in order "
            "(%d testcases, %d cases)" % (len(order), len(CASES)))
    for attr, key in (("tests", None), ("failures", "fail"), ("skipped", "skip"),
                      ("errors", "notrun")):
        want = len(status) if key is None else list(status.values()).count(key)
        r.check(int(root.get(attr, -1)) == want,
                "testsuites %s=%s, counted %d" % (attr, root.get(attr), want))
    try:
        try:
            import junitparser
        except ImportError:
            sys.path.append("/usr/lib/python3/dist-packages")
            import junitparser
        xmlres = junitparser.JUnitXml.fromfile(r.junit)
        kinds = {}
        for suite in xmlres:
            for case in suite:
                res = case.result
                kind = type(res[0]).__name__ if res else "pass"
                kinds["%s/%s" % (suite.name, case.name)] = kind
        r.check(len(kinds) == len(CASES), "junitparser reads every testcase: %d"
                % len(kinds))
        want = {"pass": "pass", "skip": "Skipped", "fail": "Failure", "notrun": "Error"}
        bad = [k for k, s in status.items() if kinds.get(k) != want.get(s)]
        r.check(not bad, "junitparser agrees on every status: %s" % bad[:5])
    except ImportError:
        pass
    return status


TAP_LINE = re.compile(r"(ok|not ok) (\d+) - (\S+)( # SKIP (.+))?$")


def check_tap(r, status):
    """TAP 13 on stdout: a plan, one line per case agreeing with the JUnit
    status, a reason on every SKIP; prove reads it and passes it exactly
    when nothing failed."""
    lines = r.out.splitlines()
    r.check(lines[:2] == ["TAP version 13", "1..%d" % len(CASES)],
            "TAP header and plan: %r" % lines[:2])
    seen = []
    for ln in lines:
        m = TAP_LINE.match(ln)
        if not m:
            continue
        ok, num, name, skip, why = m.groups()
        seen.append(name)
        want = status.get(name)
        got = "skip" if skip else "pass" if ok == "ok" else "fail"
        r.check(got == want or (got == "fail" and want == "notrun"),
                "TAP says %s for %s, JUnit %s" % (got, name, want))
        if skip:
            r.check(why.strip(), "TAP SKIP without a reason: %s" % name)
    r.check(seen == CASES, "TAP lists every case in order (%d lines)" % len(seen))
    if not shutil.which("prove"):
        return
    tap = r.junit[:-4] + ".tap"
    with open(tap, "w") as f:
        f.write(r.out)
    p = subprocess.run(["prove", "-e", "cat", tap], capture_output=True)
    failed = any(s in ("fail", "notrun") for s in status.values())
    r.check((p.returncode != 0) == failed,
            "prove %s the TAP (exit %d): %r" % ("fails" if failed else "passes", p.returncode,
                                                p.stdout.decode(errors="replace")[-300:]))


def failures(status):
    return sorted(k for k, s in status.items() if s == "fail")


# --------------------------------------------------------------------------
# Jobs

def job_profile(name):
    r = Run(name, os.path.join(TMP, name + ".xml")).run(["conform", "--sim", name])
    known = KNOWN.get(name, {})
    status = r.status = check_junit(r)
    check_tap(r, status)
    r.check("detected:" in r.err, "conform prints what it detected")
    r.check(r.rc == (1 if known else 0), "exit %d, want %d:\n%s"
            % (r.rc, 1 if known else 0, r.show()))
    fails = failures(status)
    for case in fails:
        if case in known:
            r.known.append("KNOWN: %s %s fails -- %s" % (name, case, known[case]))
    r.check(not [k for k in fails if k not in known],
            "cases that fail: %s\n%s" % ([k for k in fails if k not in known], r.show()))
    r.check(not [k for k in known if k not in fails],
            "KNOWN cases that now pass (drop them from KNOWN): %s"
            % [k for k in known if k not in fails])
    r.check(not [k for k, s in status.items() if s not in ("pass", "skip", "fail")],
            "no case errored or was not run")
    r.check(status.get("smart-mode/set-smart-mode") == "pass", "the first case passes")
    return r


def job_wrong(profile, case, tap):
    """A profile with one wrong reply: exit 1, exactly that case fails, and
    the report names it and shows both sides: the human report (and the
    EEPROM restore after the failure), or with --tap the TAP diagnostic
    block, which prove must fail."""
    path = os.path.join(TESTPROF, profile)
    r = Run(profile, os.path.join(TMP, profile + ".xml")).run(["conform", "--sim", path],
                                                              tap=tap)
    status = r.status = check_junit(r)
    r.check(r.rc == 1, "exit %d, want 1:\n%s" % (r.rc, r.show()))
    r.check(failures(status) == [case], "failed cases %s, want [%s]"
            % (failures(status), case))
    if tap:
        check_tap(r, status)
        block = re.search(r"not ok \d+ - %s\n  ---\n.*?\n  \.\.\.\n" % re.escape(case),
                          r.out, re.S)
    else:
        block = re.search(r"FAIL  %s .*?(?=\n(?:ok|skip|FAIL|restore|\d+ cases))"
                          % re.escape(case), r.out, re.S)
        r.check("restore:" in r.out and "back as they were" in r.out,
                "the EEPROM is restored after the failure:\n%s" % r.show())
    r.block = block.group(0) if block else ""
    r.check(block and "expected:" in r.block and "received:" in r.block
            and "spec:" in r.block,
            "the %s names %s and shows spec, expected and received:\n%s"
            % ("TAP" if tap else "report", case, r.block or r.show()))
    return r


class Ctl:
    """The simulator's --control socket: one line in, one line back."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)

    def __call__(self, line):
        self.s.sendall(line.encode() + b"\n")
        buf = b""
        while b"\n" not in buf:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\n", 1)[0].decode()

    def close(self):
        self.s.close()


def job_fault(label, fault, want_rc):
    """conform on --device against an upssim started here; `fault` goes to
    its control socket once the trace shows the case smart-mode/
    return-to-simple-mode under way (it lasts 1.2 s: two silences)."""
    d = tempfile.mkdtemp(dir=TMP)
    sock, trace = os.path.join(d, "ups.ctl"), os.path.join(d, "trace")
    junit = os.path.join(d, "conform.xml")
    sim = Sim("--profile", "smart-ups-1500", "--control", sock)
    r = None
    try:
        t0 = time.monotonic()
        p = subprocess.Popen([HARNESS, "conform", "--device", sim.path, "--junit", junit,
                              "--trace", trace], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=ENV)
        sent = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and p.poll() is None:
            try:
                with open(trace) as f:
                    if "case smart-mode/return-to-simple-mode" in f.read():
                        ctl = Ctl(sock)
                        sent = ctl(fault)
                        ctl.close()
                        break
            except OSError:
                pass
            time.sleep(0.02)
        try:
            out, err = p.communicate(timeout=250)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        r = Run(label, junit)
        r.secs = time.monotonic() - t0
        r.rc, r.out, r.err = p.returncode, out.decode(errors="replace"), \
            err.decode(errors="replace")
        r.check(sent == "ok", "the control socket took %s: %r" % (fault, sent))
        r.check(r.rc == want_rc, "exit %d, want %d:\n%s" % (r.rc, want_rc, r.show()))
        status = r.status = check_junit(r)
        case = "smart-mode/return-to-simple-mode"
        r.check(status.get(case) == "fail", "%s failed: %s" % (case, status.get(case)))
        block = re.search(r"FAIL  %s .*?(?=\n(?:ok|skip|FAIL|restore|\d+ cases|upsharness))"
                          % re.escape(case), r.out, re.S)
        r.block = block.group(0) if block else ""
        r.check(block and "expected:" in r.block and "received:" in r.block,
                "the report names the case and shows expected and received:\n%s"
                % (r.block or r.show()))
        if want_rc == 3:
            after = CASES[CASES.index(case) + 1:]
            r.check(after and all(status.get(k) == "notrun" for k in after),
                    "the %d cases after it are reported as not run" % len(after))
            r.check("does not answer" in r.err, "stderr says the target does not "
                    "answer: %r" % r.err[-300:])
        # conform on --device without --allow-destructive skips them
        r.check(re.search(r"skip  shutdown/turn-off-abort: not on this target: K", r.out)
                or want_rc == 3, "destructive cases skipped on --device:\n%s" % r.show())
    finally:
        sim.stop()
    return r


# --------------------------------------------------------------------------

rc, out, err = run("--list-profiles")
PROFILES = [ln.split()[0] for ln in out.splitlines() if ln.strip()]
c(rc == 0 and len(PROFILES) >= 16, "--list-profiles: %d profiles" % len(PROFILES))
only = os.environ.get("CONFORM_PROFILES")
if only:
    PROFILES = [p for p in PROFILES if p in only.split(",")]
for p in KNOWN:
    c(p in PROFILES or only, "KNOWN names a shipped profile: %s" % p)

t0 = time.monotonic()
jobs = [(job_profile, (p,)) for p in PROFILES]
jobs += [(job_wrong, ("conform-wrong-firmware.yaml", "identity/version-in-decimal", True)),
         (job_wrong, ("conform-wrong-list.yaml", "eeprom/cycle-p", False)),
         (job_fault, ("wire corrupt", "{wire: {corrupt: 1}}", 1)),
         (job_fault, ("comms lost", "{wire: {comms: lost}}", 3))]
with ThreadPoolExecutor(max_workers=len(jobs)) as ex:
    futures = [ex.submit(fn, *args) for fn, args in jobs]
    results = []
    for fut in futures:
        try:
            results.append(fut.result())
        except Exception as e:  # a job that could not even run
            c(False, "a run raised %r" % e)

print("%-28s %5s %6s %6s %7s %7s %7s" % ("run", "exit", "passed", "failed", "skipped",
                                         "not run", "seconds"))
for r in results:
    for ok, msg in r.notes:
        c(ok, msg)
    for k in r.known:
        print(k)
    n = {s: list(r.status.values()).count(s) for s in ("pass", "fail", "skip", "notrun")}
    print("%-28s %5d %6d %6d %7d %7d %7.1f" % (r.label, r.rc, n["pass"], n["fail"], n["skip"],
                                              n["notrun"], r.secs), flush=True)
    if VERBOSE:
        print(r.out + r.err)
for r in results:
    if r.block:
        shown = "\n".join("    " + ln for ln in r.block.splitlines())
        print("--- %s: the report shows\n%s" % (r.label, shown))
print("time %.1f s" % (time.monotonic() - t0))
shutil.rmtree(TMP, ignore_errors=True)
c.done()
