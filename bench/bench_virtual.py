#!/usr/bin/env python3
"""Benchmark: how fast --virtual runs a scenario with no host attached.

    python3 bench/bench_virtual.py [--bin build/upssim] [--runs 5] [SCENARIO]

Runs the scenario (default: scenarios/flaky-day.yaml, 24 h with a dozen
outages) to its end RUNS times and prints the wall time of each run and
the simulated hours per wall second of the best and the median run.  The
goal: a 24-hour scenario in under 1 s on a 2-core machine.  It prints
figures; it asserts nothing (speed is not a test).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?",
                    default=os.path.join(ROOT, "scenarios", "flaky-day.yaml"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "upssim"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    walls, sim_s = [], None
    with tempfile.TemporaryDirectory() as d:
        for i in range(a.runs):
            csvp = os.path.join(d, "t%d.csv" % i)
            t0 = time.perf_counter()
            p = subprocess.run([a.bin, "--scenario", a.scenario, "--virtual",
                                "--timeline", csvp, "-v"],
                               capture_output=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                sys.stderr.write(p.stderr.decode(errors="replace"))
                return 1
            for line in p.stderr.decode().splitlines():
                if "the scenario ended at" in line:
                    sim_s = float(line.split(" at ")[1].split()[0])
            with open(csvp) as f:
                rows = sum(1 for _ in f) - 1
            walls.append(wall)
            print("run %d: %.3f s wall, %d timeline rows" % (i + 1, wall, rows))
    hours = (sim_s or 0) / 3600.0
    best, med = min(walls), statistics.median(walls)
    print("scenario: %s (%.1f simulated hours)" % (os.path.basename(a.scenario), hours))
    print("best:   %.3f s wall = %.0f simulated hours per wall second" % (best, hours / best))
    print("median: %.3f s wall = %.0f simulated hours per wall second" % (med, hours / med))
    print("goal: 24 h in < 1 s: %s" % ("met" if med < 1.0 and hours >= 24 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
