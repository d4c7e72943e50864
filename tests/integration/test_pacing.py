"""Realistic timing (--realistic-timing, profile timing.reply_delay/pace):
the first byte of a reply comes after the delay, bytes leave at 2400 bit/s
(4.17 ms each), and the bytes are exactly those of an unpaced unit.  Also
a profile that sets only reply_delay, without pacing."""
import os
import select
import tempfile
import time

from upssim_proc import Check, Sim

c = Check("pacing")
BYTE_S = 10 / 2400.0


def timed(s, data, end=b"\r\n", timeout=10.0):
    """Send, then return (reply, seconds to first byte, seconds to last)."""
    t0 = time.monotonic()
    s.send(data)
    first = None
    buf = b""
    while not buf.endswith(end) and time.monotonic() - t0 < timeout:
        r, _, _ = select.select([s.fd], [], [], 0.5)
        if r:
            chunk = os.read(s.fd, 4096)
            if first is None and chunk:
                first = time.monotonic() - t0
            buf += chunk
    return buf, first, time.monotonic() - t0


with Sim() as plain:
    plain.open()
    plain.smart()
    want_dump = plain.cmd("\x1a") + b"\r\n"
    want_a = plain.cmd("a") + b"\r\n"

with Sim("--realistic-timing") as s:
    s.open()
    s.drain(0.3)
    reply, first, last = timed(s, "Y")
    c.eq(reply, b"SM\r\n", "Y answered")
    c(0.055 <= first < 0.5, "first byte after the 60 ms reply delay (%.3f s)" % first)
    reply, first, last = timed(s, "\x1a")
    c.eq(reply, want_dump, "^Z bytes identical to an unpaced unit")
    wire = len(want_dump) * BYTE_S
    c(last >= 0.06 + wire * 0.9, "^Z of %d bytes took %.2f s (wire time %.2f s)"
      % (len(want_dump), last, wire))
    c(last < 0.06 + wire + 1.5, "^Z not slower than the line plus margin (%.2f s)" % last)
    # back-to-back commands are answered in order, none lost
    s.send("QaQ")
    buf = s.read_until(b"\r\n08\r\n", timeout=5)
    c.eq(buf, b"08\r\n" + want_a + b"08\r\n", "three replies, in order, complete")

with tempfile.TemporaryDirectory() as d:
    prof = os.path.join(d, "slow.yaml")
    with open(prof, "w") as f:
        f.write("inherit: smart-ups-1500\ntiming: { reply_delay: 300 }\n")
    with Sim("--profile", prof) as s:
        s.open()
        s.drain(0.5)
        reply, first, last = timed(s, "Y")
        c.eq(reply, b"SM\r\n", "Y with a 300 ms delay")
        c(0.29 <= first < 0.8, "first byte after 300 ms (%.3f s)" % first)
        c(last - first < 0.05, "no pacing: the reply comes in one piece (%.3f s)" % (last - first))
c.done()
