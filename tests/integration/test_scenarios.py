"""Scenarios on the installed binary: --virtual runs a day to its end and
twice gives byte-identical output; --speed 60 turns a 40-minute discharge
into about 40 s of wall time with `j` falling all along; bad scenario files
never start the simulator.  (Real clients judge scenarios in
tests/realclient; the control socket and wire faults are in
test_control.py.)"""
import csv
import io
import os
import subprocess
import tempfile
import time

from upssim_proc import BIN, SRC, Check, Sim, run

c = Check("scenarios")
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


def virtual(scenario, *extra, timeout=60):
    with tempfile.TemporaryDirectory() as d:
        csvp = os.path.join(d, "t.csv")
        t0 = time.monotonic()
        p = subprocess.run([BIN, "--scenario", scenario, "--virtual",
                            "--timeline", csvp, "-v", *extra],
                           capture_output=True, timeout=timeout)
        took = time.monotonic() - t0
        with open(csvp) as f:
            text = f.read()
    return p.returncode, text, p.stderr.decode(errors="replace"), took


# ---- --virtual: a day with twelve outages, to its end, deterministic ----
day = os.path.join(HERE, "day.yaml")
rc, text, err, took = virtual(day)
c.eq(rc, 0, "--virtual day: exit 0 at the scenario's end")
c("the scenario ended at 86400.000 s" in err, "it ended at 24 h: %r" % err[-200:])
rows = list(csv.DictReader(io.StringIO(text)))
c(len(rows) > 24, "the timeline has rows (%d)" % len(rows))
c.eq(list(rows[0].keys()), ["t_s", "event", "Q", "charge_pct", "runtime_min",
                            "line_v", "out_v", "load_pct", "batt_v"], "CSV header")
q = [r["Q"] for r in rows]
to_batt = sum(1 for a, b in zip(q, q[1:]) if a == "08" and b == "10")
to_line = sum(1 for a, b in zip(q, q[1:]) if a == "10" and b == "08")
c.eq(to_batt, 12, "twelve transfers to battery (Q 08 -> 10)")
c.eq(to_line, 12, "twelve returns to line (Q 10 -> 08)")
offs = [float(r["t_s"]) for r in rows if r["event"] == "event line" and r["Q"] == "10"]
c.eq([round(t) for t in offs], [3600 + 7200 * i for i in range(12)],
     "each outage starts at its scenario time")
charges = [float(r["charge_pct"]) for r in rows]
c(min(charges) > 80 and max(charges) == 100.0,
  "two-minute outages at 30 %% load drain a little and recharge (min %.1f)" % min(charges))
c(float(rows[-1]["t_s"]) <= 86400.0, "no row after the end")
rc2, text2, err2, _ = virtual(day)
c.eq(text2 == text, True, "two --virtual runs give byte-identical timelines")
strip = lambda e: [l for l in e.splitlines() if "/dev/pts/" not in l]
c.eq(strip(err2) == strip(err), True, "and byte-identical -v traces")
print("virtual day: %.3f s of wall time" % took)

# ---- --speed 60: a 40-minute discharge ends in low battery in ~40 s ----
with Sim("--scenario", os.path.join(HERE, "discharge40.yaml"), "--speed", "60") as s:
    s.open()
    s.smart()
    t0 = time.monotonic()
    js, lb_at, onb = [], None, False
    while time.monotonic() - t0 < 70:
        qv = s.cmd("Q")
        j = s.cmd("j")
        # alerts (`!` at the line failure, `%`) may come before a reply
        qv = qv.lstrip(b"!$%+?=#|&") if qv is not None else None
        j = j.lstrip(b"!$%+?=#|&") if j is not None else None
        if qv is None or j is None:
            s.drain(0.1)
            continue
        qi = int(qv, 16)
        if qi & 0x10:
            onb = True
            js.append(int(j.rstrip(b":")))
        if qi & 0x40:
            lb_at = time.monotonic() - t0
            break
        s.read_for(1.0)  # poll interval of this test host
    c(onb, "the unit went on battery")
    c(lb_at is not None and 30 <= lb_at <= 50,
      "low battery after about 40 s of wall time (%s s)" % (None if lb_at is None else round(lb_at, 1)))
    c(len(js) >= 20, "j sampled along the way (%d samples)" % len(js))
    c(all(b <= a for a, b in zip(js, js[1:])) and js and js[0] > js[-1],
      "j falls monotonically: %s" % js[:3] + "..." + str(js[-3:]))

# ---- bad scenario files: file:line:col, exit 3, nothing started ----
with tempfile.TemporaryDirectory() as d:
    cases = [
        ("timeline:\n  - at: 10x\n    line: off\n", ":2:"),
        ("profile: smart-ups-1500\ntimeline:\n  - at: 10s\n    lod: 5\n", ":4:5:"),
        ("timeline:\n  - at: 20s\n    line: off\n  - at: 10s\n    line: on\n", ":4:"),
        ("initial:\n  load: 500\n", ":2:"),
        ("profile: no-such-profile\n", "no-such-profile"),
    ]
    for i, (text, want) in enumerate(cases):
        path = os.path.join(d, "bad%d.yaml" % i)
        with open(path, "w") as f:
            f.write(text)
        link = os.path.join(d, "ups%d" % i)
        rc, out, err = run("--scenario", path, "--link", link)
        c.eq(rc, 3, "bad scenario %d exits 3" % i)
        c(err.startswith("upssim: ") and want in err, "bad scenario %d: %r" % (i, err.strip()))
        c(not os.path.lexists(link) and out == "", "bad scenario %d: nothing started" % i)
    rc, _, err = run("--scenario", os.path.join(d, "missing.yaml"))
    c.eq(rc, 3, "a missing scenario file exits 3")
    rc, _, err = run("--virtual")
    c.eq(rc, 2, "--virtual without --scenario is a usage error")

c.done()
