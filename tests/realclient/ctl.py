#!/usr/bin/env python3
"""Talk to a running upssim's control socket (upssim --control PATH).

usage: ctl.py [--stamp] [--timeout SECS] SOCKET LINE [LINE...]
       ctl.py [--stamp] [--timeout SECS] SOCKET -      (lines from stdin)

Sends every LINE on one connection, one at a time, and prints the one-line
reply to each (control.h: one line in, one line out) before sending the
next.  With --stamp each reply is preceded by the wall-clock time (seconds
since the epoch, the middle of the request's round trip) and a space, so a
`status` reply's `t=` (scenario time) can be tied to wall time.

Exit status: 0 every line got a reply; 1 a reply did not come within the
timeout (default 5 s) or the socket closed; 2 usage or connect error.
"""
import socket
import sys
import time


def main(argv):
    stamp = False
    timeout = 5.0
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--stamp":
            stamp = True
        elif opt == "--timeout" and args:
            timeout = float(args.pop(0))
        else:
            sys.stderr.write(__doc__)
            return 2
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    path, lines = args[0], args[1:]
    if lines == ["-"]:
        lines = sys.stdin.read().splitlines()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError as e:
        sys.stderr.write("ctl.py: connect %s: %s\n" % (path, e))
        return 2
    buf = b""
    out = sys.stdout
    for line in lines:
        t0 = time.time()
        s.sendall(line.encode("utf-8", "surrogateescape") + b"\n")
        while b"\n" not in buf:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                sys.stderr.write("ctl.py: no reply to %r within %.1f s\n"
                                 % (line, timeout))
                return 1
            if not chunk:
                sys.stderr.write("ctl.py: connection closed before the "
                                 "reply to %r\n" % line)
                return 1
            buf += chunk
        reply, buf = buf.split(b"\n", 1)
        t1 = time.time()
        text = reply.decode("utf-8", "replace")
        if stamp:
            out.write("%.3f %s\n" % ((t0 + t1) / 2, text))
        else:
            out.write(text + "\n")
        out.flush()
    s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:  # the reader went away (| head): not our error
        sys.stderr.close()
        sys.exit(1)
