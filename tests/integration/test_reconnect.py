"""Hosts close and reopen the port any number of times (NUT and apcupsd
restarts); the same process keeps answering, and a half-sent command from
a previous host does not leak into the next one."""
from upssim_proc import Check, Sim

c = Check("reconnect")
with Sim() as s:
    for i in range(50):
        s.open()
        s.drain(0.05)
        c.eq(s.cmd("Y"), b"SM", "session %d: Y" % i)
        c.eq(s.cmd("Q"), b"08", "session %d: Q" % i)
        if i % 10 == 3:
            # a host dies in the middle of a direct entry (c - then 8 chars)
            c.eq(s.cmd("c") is not None, True, "session %d: c" % i)
            s.send("-AB")
        s.close()
    s.open()
    s.drain(1.0)
    c.eq(s.cmd("Y"), b"SM", "after 50 sessions")
    c.eq(s.proc.poll(), None, "still running")
c.done()
