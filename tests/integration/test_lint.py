"""The host lint (docs/lint.md): a small host program (lint_host.py) breaks
each rule in turn against the installed upssim; every rule is reported as
a `lint RULE "BYTES" message` note in the trace (-v and --trace FILE) and
in the summary at exit, naming the bytes.  A well-behaved host gets no
finding and no summary; --no-lint turns it off."""
import os
import re
import tempfile

import lint_host
from upssim_proc import Check, Sim

c = Check("lint")


def esc(b):
    """Bytes as the trace format writes them (trace.h)."""
    out = ""
    for x in b:
        ch = chr(x)
        if ch == "\r":
            out += "\\r"
        elif ch == "\n":
            out += "\\n"
        elif ch in '"\\':
            out += "\\" + ch
        elif x < 0x20 or x >= 0x7F:
            out += "\\x%02X" % x
        else:
            out += ch
    return '"%s"' % out


with tempfile.TemporaryDirectory() as d:
    # ---- every violation, one at a time, each with its own unit -------
    for rule, (fn, want) in lint_host.VIOLATIONS.items():
        tr = os.path.join(d, rule + ".trace")
        s = Sim("--trace", tr)
        h = lint_host.Host(s.path)
        h.ask(b"Y")
        fn(h)
        h.read(0.2)
        h.close()
        err = s.stop()
        with open(tr) as f:
            notes = [l for l in f.read().splitlines() if " lint " in l]
        mine = [l for l in notes if l.split()[2] == rule]
        c(len(mine) >= 1, "%s: a lint note in the trace (notes: %r)" % (rule, notes))
        if mine:
            m = re.match(r'^\d+\.\d{3} lint (\S+) ("(?:[^"\\]|\\.)*") (.+)$', mine[0])
            c(m is not None, "%s: note reads `lint RULE \"BYTES\" message`: %r"
              % (rule, mine[0]))
            if m:
                c.eq(m.group(2), esc(want), "%s: the note names the bytes" % rule)
        c(re.search(r"^upssim: host lint: \d+ findings", err, re.M) is not None,
          "%s: a summary at exit (stderr %r)" % (rule, err[-300:]))
        distinct = bytes(sorted(set(want)))  # the summary lists each byte once
        c(re.search(r"^  %s +\d+  bytes %s" % (re.escape(rule), re.escape(esc(distinct))),
                    err, re.M) is not None,
          "%s: the summary lists the rule with its bytes" % rule)

    # ---- all of them in one session: -v and --trace agree -------------
    tr = os.path.join(d, "all.trace")
    s = Sim("-v", "--trace", tr, stderr_path=os.path.join(d, "all.err"))
    h = lint_host.Host(s.path)
    lint_host.bad(h)
    h.close()
    err = s.stop()
    with open(tr) as f:
        file_lines = f.read().splitlines()
    c(file_lines[0].startswith("0.000 trace v1 side=ups upssim "),
      "--trace starts with the header note: %r" % file_lines[:1])
    v_lines = [l for l in err.splitlines() if not l.startswith("upssim:")
               and not l.startswith("  ")]
    c.eq(v_lines, file_lines[1:], "-v and --trace FILE carry the same lines")
    for rule in lint_host.VIOLATIONS:
        c(any(l.split()[1:3] == ["lint", rule] for l in file_lines),
          "one session: %s reported" % rule)

    # ---- a well-behaved host: nothing --------------------------------
    tr = os.path.join(d, "good.trace")
    s = Sim("--trace", tr)
    h = lint_host.Host(s.path)
    lint_host.good(h)
    h.close()
    err = s.stop()
    with open(tr) as f:
        notes = [l for l in f.read().splitlines() if " lint " in l]
    c.eq(notes, [], "a well-behaved host: no lint notes")
    c("host lint" not in err, "a well-behaved host: no summary (%r)" % err[-300:])

    # ---- --no-lint -----------------------------------------------------
    tr = os.path.join(d, "off.trace")
    s = Sim("--trace", tr, "--no-lint")
    h = lint_host.Host(s.path)
    h.ask(b"\x1b")
    h.close()
    err = s.stop()
    with open(tr) as f:
        c(" lint " not in f.read(), "--no-lint: no notes")
    c("host lint" not in err, "--no-lint: no summary")

c.done()
