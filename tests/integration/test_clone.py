"""upsharness clone against every shipped profile (upssim --list-profiles),
the profiles in parallel: `upsharness clone --sim NAME --trace T >
unit.yaml`, then
  (a) T shows only bytes from the safe list (Y, documented non-destructive
      queries and settings; never `-`, never a destructive or undocumented
      byte);
  (b) `upssim --profile unit.yaml` loads;
  (c) for the safe queries the clone answers byte for byte like the
      original (both run, the same bytes sent to each);
  (d) `upsharness conform --sim unit.yaml` passes.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import tempfile

from upssim_proc import BIN, SRC, Check, Sim

c = Check("clone")
HARNESS = os.environ.get("UPSSIM_HARNESS",
                         os.path.join(os.path.dirname(BIN), "upsharness"))
TMP = tempfile.mkdtemp(prefix="upsharness-clone-")
ENV = dict(os.environ, UPSSIM_BIN=BIN)

# the command table's safe bytes, from upssim --list-commands (docs/commands.md)
DESTRUCTIVE = set(b"KZSU@D^\x0ezR")  # never; the table says so too
SAFE_FIXED = set(b"Ya\x01Vbnmg\x1Ayc")

# the queries compared byte for byte: identity, a, ^Z, settings, and the
# readings the profile takes as start values
COMPARE = [b"Y", b"a", b"\x01", b"V", b"b", b"n", b"m", b"g", b"\x1a", b"y",
           b"c", b"x", b"u", b"l", b"e", b"o", b"s", b"q", b"p", b"k", b"r",
           b"E", b"w", b"L", b"M", b"N", b"F", b"G", b"f", b"B", b"P", b"C"]


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            e = s[i + 1]
            if e in "xX":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out.append({"r": 13, "n": 10, "t": 9, "0": 0, '"': 34, "\\": 92}[e])
            i += 2
            continue
        out.append(ord(ch))
        i += 1
    return bytes(out)


def trace_rx(path):
    rx = []
    for ln in open(path, encoding="latin-1"):
        m = re.match(r'^\d+\.\d+ rx "((?:[^"\\]|\\.)*)"', ln)
        if m:
            rx.append(unescape(m.group(1)))
    return rx


def safe_bytes():
    """Bytes the command table marks as documented, non-destructive
    queries or settings (upssim --list-commands)."""
    p = subprocess.run([BIN, "--list-commands"], capture_output=True, timeout=30)
    return p.stdout.decode(errors="replace")


def one(name):
    res = []  # (ok, message)
    d = os.path.join(TMP, name)
    os.makedirs(d)
    yml = os.path.join(d, "unit.yaml")
    tr = os.path.join(d, "clone.trace")
    with open(yml, "wb") as f:
        p = subprocess.run([HARNESS, "clone", "--sim", name, "--trace", tr],
                           stdout=f, stderr=subprocess.PIPE, timeout=120,
                           env=ENV)
    res.append((p.returncode == 0, "%s: clone exits 0 (%s)" %
                (name, p.stderr.decode(errors="replace").strip()[-300:])))
    if p.returncode != 0:
        return res
    # (a) only safe bytes were sent
    rx = trace_rx(tr)
    sent = b"".join(rx)
    bad = sorted(set(sent) - ALLOWED)
    res.append((not bad and len(sent) > 10,
                "%s: clone sent only safe bytes (%d bytes%s)" %
                (name, len(sent), ", not safe: %r" % bytes(bad) if bad else "")))
    res.append((b"-" not in sent, "%s: clone never sent '-'" % name))
    # (b) loads
    try:
        sim = Sim("--profile", yml)
        sim.stop()
        loads = True
        why = ""
    except RuntimeError as e:
        loads = False
        why = str(e)[-300:]
    res.append((loads, "%s: upssim --profile unit.yaml loads %s" % (name, why)))
    if not loads:
        return res
    # (c) byte for byte on the safe queries the clone itself asked
    asked = set(sent)
    cmds = [q for q in COMPARE if q[0] in asked]
    orig = replies(["--profile", name], cmds)
    clone = replies(["--profile", yml], cmds)
    diff = [(q, orig[q], clone[q]) for q in cmds if orig[q] != clone[q]]
    res.append((not diff, "%s: clone answers %d safe queries like the original%s"
                % (name, len(cmds), "; differ: " + "; ".join(
                    "%r %r vs %r" % x for x in diff) if diff else "")))
    # (d) conform passes
    p = subprocess.run([HARNESS, "conform", "--sim", yml, "-q"],
                       capture_output=True, timeout=300, env=ENV)
    res.append((p.returncode == 0, "%s: upsharness conform --sim unit.yaml "
                "passes%s" % (name, "" if p.returncode == 0 else ": " +
                              p.stdout.decode(errors="replace")[-1500:])))
    return res


def replies(args, cmds):
    """Send each command to a fresh upssim, one after the other; collect
    the reply line (CR LF included), or the bytes seen before 1 s of
    silence."""
    sim = Sim(*args)
    out = {}
    try:
        sim.open()
        sim.send(b"Y")
        sim.read_until(b"\r\n", 2.0)
        for q in cmds:
            sim.send(q)
            out[q] = sim.read_until(b"\r\n", 1.0)
    finally:
        sim.stop()
    return out


# the safe set: Y plus the table's documented, non-destructive queries and
# settings, as upsharness itself decides them; checked against the table
# text here so that a change to either shows
TABLE = safe_bytes()
ALLOWED = set(SAFE_FIXED) | set(b"Y")
for line in TABLE.splitlines():
    cols = [x.strip() for x in re.split(r"(?<!\\)\|", line)]
    if len(cols) < 8 or not cols[1].startswith("`"):
        continue
    name, kind, flags = cols[1].strip("`"), cols[3], cols[6]
    if kind not in ("query", "setting"):
        continue
    if "destructive" in flags or "undoc" in flags:
        continue
    if len(name) == 1:
        ALLOWED.add(ord(name))
    elif len(name) == 2 and name[0] == "^":
        ALLOWED.add(0x7F if name[1] == "?" else ord(name[1]) - 64)
    elif name == "DEL":
        pass
ALLOWED -= DESTRUCTIVE
ALLOWED.discard(ord("-"))

names = [ln.split()[0] for ln in subprocess.run(
    [BIN, "--list-profiles"], capture_output=True, timeout=30,
    text=True).stdout.splitlines() if ln.strip()]
c(len(names) >= 10, "upssim --list-profiles lists the shipped profiles (%d)"
  % len(names))
with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
    for results in ex.map(one, names):
        for ok, msg in results:
            c(ok, msg)
if c.bad == 0:
    shutil.rmtree(TMP, ignore_errors=True)
else:
    print("# files kept in %s" % TMP)
c.done()
