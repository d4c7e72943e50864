"""Two-press timing on a real pty: K then K 0.5 s later is ignored; K then
K 1.6 s later answers OK and the output goes off after the shutdown delay
`p` (ULS p.3).  Also checks that DEL aborts a pending K (ULS p.5)."""
import time

from upssim_proc import Check, Sim

c = Check("timing")
with Sim() as s:
    s.open()
    s.smart()
    c.eq(s.cmd("Q"), b"08", "on line before the test")

    # too fast: first K silent, second K 0.5 s later ignored, nothing sent
    s.send("K")
    c.eq(s.read_for(0.5), b"", "first K is silent")
    s.send("K")
    c.eq(s.read_for(0.5), b"", "K 0.5 s after K is ignored")
    c.eq(s.cmd("Q"), b"08", "output still on after the ignored K..K")

    # slow enough: OK, then DEL aborts during the delay
    s.send("K")
    c.eq(s.read_for(1.6), b"", "first K is silent (1.6 s)")
    c.eq(s.cmd("K"), b"OK", "K 1.6 s after K is accepted")
    c.eq(s.cmd("\x7f"), b"OK", "DEL aborts the pending K")
    c.eq(s.cmd("\x7f"), b"NO", "DEL with nothing pending")

    # and again, letting it run: output goes off after p seconds
    p = int(s.cmd("p"))
    s.send("K")
    time.sleep(1.6)  # the gap under test, not a readiness wait
    c.eq(s.cmd("K"), b"OK", "K..K accepted")
    t0 = time.monotonic()
    c.eq(s.cmd("Q"), b"08", "still on line during the delay")
    while s.cmd("Q") != b"00" and time.monotonic() - t0 < p + 5:
        s.read_for(0.25)
    took = time.monotonic() - t0
    c(p - 1 <= took <= p + 2, "output off after p=%ds (took %.1fs)" % (p, took))
    c.eq(s.cmd("Q"), b"00", "Q reads 00 once the output is off")
    c.eq(s.cmd("O"), b"000.0", "no output voltage")
    c.eq(s.cmd("\x7f"), b"NO", "DEL after K completed: stays off (ULS p.5)")
    # ^N ^N turns it back on
    s.send("\x0e")
    time.sleep(1.6)  # the two-press gap under test
    s.send("\x0e")
    deadline = time.monotonic() + 3
    while s.cmd("Q") != b"08" and time.monotonic() < deadline:
        s.read_for(0.1)
    c.eq(s.cmd("Q"), b"08", "^N..^N turns the output back on")
c.done()
