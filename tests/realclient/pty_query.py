#!/usr/bin/env python3
"""Ask a UPS-Link device (upssim's pty) for registers, as a host would.

usage: pty_query.py DEVICE CMD [CMD...]

Opens DEVICE raw (2400 8N1, no echo), sends `Y` (smart mode, reply SM),
then each CMD (a single command byte, or `^X` for a control byte) and
prints one line per CMD: `CMD=REPLY`, REPLY being the reply line without
CR LF with alert characters taken out (they are printed apart, as
`alerts=...` at the end, if any arrived).  Only one host may have the
device open: never run this while NUT or apcupsd hold it.

Exit status: 0 all replies read; 1 a reply did not come within 2 s; 2 usage.
"""
import os
import select
import sys
import termios
import time
import tty

ALERTS = set(b"!$%+#?=*|&")


def read_line(fd, alerts, timeout=2.0):
    buf = b""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        c = os.read(fd, 1)
        if not c:
            return None
        if c == b"\n":
            return buf.rstrip(b"\r").decode("latin-1")
        if c[0] in ALERTS:
            alerts.append(chr(c[0]))
            continue
        buf += c


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    fd = os.open(argv[1], os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = termios.B2400
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        alerts = []
        os.write(fd, b"Y")
        if read_line(fd, alerts) != "SM":
            sys.stderr.write("pty_query.py: no SM to Y\n")
            return 1
        rc = 0
        for cmd in argv[2:]:
            b = bytes([ord(cmd[1]) & 0x1F]) if len(cmd) == 2 and cmd[0] == "^" \
                else cmd.encode("latin-1")
            os.write(fd, b)
            reply = read_line(fd, alerts)
            if reply is None:
                sys.stderr.write("pty_query.py: no reply to %r\n" % cmd)
                rc = 1
                reply = ""
            print("%s=%s" % (cmd, reply))
        if alerts:
            print("alerts=" + "".join(alerts))
        return rc
    finally:
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
