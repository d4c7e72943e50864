"""upsharness conform at realistic timing: the whole conformance suite
against `upssim --realistic-timing` (60 ms before each reply, then 2400
bit/s on the wire, so a ^Z dump takes about a second), passed through
`--sim-arg`.  It must pass as on real hardware and its duration is printed
(about 80 s on a smart-ups-1500; ctest labels it `slow` as well as
`integration`).  The trace shows that the timing was in effect.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
from upssim_proc import BIN, SRC, Check  # noqa: E402

c = Check("conform-realistic")
HARNESS = os.environ.get("UPSSIM_HARNESS") or os.path.join(os.path.dirname(BIN),
                                                           "upsharness")
ENV = dict(os.environ, UPSSIM_BIN=BIN,
           UPSHARNESS_SUITE=os.path.join(SRC, "scenarios", "conformance"))
PROFILE = "smart-ups-1500"

with tempfile.TemporaryDirectory(prefix="upsharness-realistic-") as d:
    junit, trace = os.path.join(d, "conform.xml"), os.path.join(d, "trace")
    t0 = time.monotonic()
    p = subprocess.run([HARNESS, "conform", "--sim", PROFILE, "--sim-arg",
                        "--realistic-timing", "--junit", junit, "--trace", trace],
                       capture_output=True, timeout=580, env=ENV)
    secs = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    c.eq(p.returncode, 0, "conform --sim %s --sim-arg --realistic-timing exits 0 (%s%s)"
         % (PROFILE, out[-2000:], err[-1000:]))
    m = re.search(r"(\d+) cases: (\d+) passed, (\d+) failed, (\d+) skipped", out)
    c(m and m.group(3) == "0" and int(m.group(2)) > 50,
      "the summary: %s" % (m.group(0) if m else out[-300:]))

    root = ET.parse(junit).getroot()
    cases = root.findall("./testsuite/testcase")
    c(len(cases) >= 90 and root.get("failures") == "0" and root.get("errors") == "0",
      "JUnit: %d testcases, failures %s, errors %s" % (len(cases), root.get("failures"),
                                                       root.get("errors")))

    # the timing was realistic: replies start >= 50 ms after the command,
    # and the ^Z dump (about 250 bytes at 4.17 ms) takes most of a second
    with open(trace) as f:
        events = [ln.split(" ", 2) for ln in f.read().splitlines()]
    first_y = next(i for i, e in enumerate(events) if e[1:2] == ["tx"] and e[2] == '"Y"')
    first_rx = next(e for e in events[first_y:] if e[1:2] == ["rx"])
    lat = float(first_rx[0]) - float(events[first_y][0])
    c(lat >= 0.05, "first reply %.3f s after Y (want >= 0.050: 60 ms reply delay)" % lat)
    dump = next(i for i, e in enumerate(events) if e[1:2] == ["tx"] and e[2] == '"\\x1A"')
    end = next(e for e in events[dump:] if e[1:2] == ["rx"] and e[2].endswith('\\n"'))
    took = float(end[0]) - float(events[dump][0])
    c(took >= 0.8, "^Z dump took %.2f s (want >= 0.8 s at 2400 bit/s)" % took)

    print("conform --sim %s --realistic-timing: %s in %.1f s (first reply after %.0f ms, "
          "^Z dump %.2f s)" % (PROFILE, m.group(0) if m else "?", secs, lat * 1000, took))
c.done()
