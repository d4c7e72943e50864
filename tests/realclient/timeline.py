#!/usr/bin/env python3
"""Look things up in an upssim --timeline CSV (include/upssim/timeline.h).

usage: timeline.py FILE first [--after T] [--before T] COND [COND...]
       timeline.py FILE last [--after T] [--before T] COND [COND...]
       timeline.py FILE count [--after T] [--before T] COND [COND...]
       timeline.py FILE at T COLUMN

  first  prints t_s of the first row (t_s >= --after, t_s < --before) that
         meets every COND; exit 1 if there is none
  last   prints t_s of the last such row; exit 1 if there is none
  count  prints how many such rows there are
  at     prints COLUMN of the last row with t_s <= T; exit 1 if none

COND is one of
  Q&MASK=VALUE     the Q register (two hex digits) masked, e.g. Q&0x50=0x50
  event~REGEX      the event text matches (re.search), e.g. 'event~^cmd S$'
  COLUMN>=NUMBER   COLUMN<=NUMBER   COLUMN=TEXT

The file is read as it is now (upssim flushes every row), so a test can
poll it while upssim runs.
"""
import csv
import re
import sys


def rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                r["_t"] = float(r["t_s"])
            except (KeyError, ValueError):
                continue  # a row still being written
            yield r


def parse_cond(c):
    m = re.match(r"^Q&(0x[0-9a-fA-F]+|\d+)=(0x[0-9a-fA-F]+|\d+)$", c)
    if m:
        mask, val = int(m.group(1), 0), int(m.group(2), 0)
        return lambda r: (int(r["Q"], 16) & mask) == val
    m = re.match(r"^event~(.*)$", c, re.S)
    if m:
        rx = re.compile(m.group(1))
        return lambda r: rx.search(r["event"]) is not None
    m = re.match(r"^(\w+)(>=|<=|=)(.*)$", c)
    if m:
        col, op, val = m.groups()
        if op == "=":
            return lambda r: r.get(col) == val
        num = float(val)
        if op == ">=":
            return lambda r: float(r[col]) >= num
        return lambda r: float(r[col]) <= num
    raise ValueError("bad condition %r" % c)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, cmd, args = argv[1], argv[2], argv[3:]
    if cmd in ("first", "last", "count"):
        after, before = float("-inf"), float("inf")
        conds = []
        while args:
            a = args.pop(0)
            if a == "--after" and args:
                after = float(args.pop(0))
            elif a == "--before" and args:
                before = float(args.pop(0))
            else:
                conds.append(parse_cond(a))
        n, last = 0, None
        for r in rows(path):
            if after <= r["_t"] < before and all(c(r) for c in conds):
                if cmd == "first":
                    print(r["t_s"])
                    return 0
                n += 1
                last = r["t_s"]
        if cmd == "count":
            print(n)
            return 0
        if cmd == "last" and last is not None:
            print(last)
            return 0
        return 1
    if cmd == "at" and len(args) == 2:
        t, col = float(args[0]), args[1]
        val = None
        for r in rows(path):
            if r["_t"] > t:
                break
            val = r.get(col)
        if val is None:
            return 1
        print(val)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
