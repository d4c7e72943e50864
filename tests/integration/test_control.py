"""--control: the live control socket on the installed binary.  Events
injected as YAML flow lines reach the host at once (an `!` the moment the
line fails), `status` answers one line, malformed lines change nothing,
and each wire fault does to the bytes what it says."""
import os
import socket
import stat
import tempfile
import time

from upssim_proc import Check, Sim

c = Check("control")


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.buf = b""

    def __call__(self, line):
        self.s.sendall(line.encode() + b"\n")
        while b"\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        reply, self.buf = self.buf.split(b"\n", 1)
        return reply.decode()

    def status(self):
        st = self("status")
        return dict(kv.split("=", 1) for kv in st.split()[1:] if "=" in kv)


with tempfile.TemporaryDirectory() as d:
    sock = os.path.join(d, "ups.ctl")
    with Sim("--control", sock, "--link", os.path.join(d, "ups")) as s:
        c(stat.S_ISSOCK(os.stat(sock).st_mode), "the control socket exists")
        c.eq(stat.S_IMODE(os.stat(sock).st_mode), 0o600, "mode 0600")
        ctl = Ctl(sock)
        s.open()
        s.smart()
        st = ctl.status()
        c.eq(st.get("Q"), "08", "status: on line")
        c.eq(st.get("output"), "on", "status: output on")

        # an event reaches the host at once: `!` without a poll
        c.eq(ctl("{line: off}"), "ok", "{line: off} -> ok")
        c.eq(s.read_until(b"!", 1.0), b"!", "`!` arrives at once")
        c.eq(s.cmd("Q"), b"10", "on battery")
        c.eq(ctl.status().get("on_battery"), "yes", "status: on battery")
        c.eq(ctl("{line: on}"), "ok", "{line: on} -> ok")
        c.eq(s.read_until(b"$", 1.0), b"$", "`$` at once")
        c.eq(ctl("{load: 80}"), "ok", "{load: 80}")
        c.eq(s.cmd("P"), b"080.0", "P reads the new load")
        c.eq(ctl("{notch: 500ms}"), "ok", "{notch: 500ms}")
        s.read_until(b"!", 1.0)
        c.eq(s.cmd("G"), b"T", "a notch: transfer cause T")
        s.drain(0.8)
        c.eq(s.cmd("Q"), b"08", "back on line after the notch")
        c.eq(ctl("{fault: main_relay}"), "ok", "{fault: main_relay}")
        s.read_until(b"?", 1.0)
        c.eq(s.cmd("8"), b"04", "8 bit 2: main relay")
        c.eq(s.cmd("Q"), b"00", "the unit is off")
        c.eq(ctl("{clear: main_relay}"), "ok", "{clear: main_relay}")
        s.drain(0.3)
        c.eq(s.cmd("Q"), b"08", "repaired: on line")

        # malformed lines: an error each, nothing changes
        before = ctl.status()
        before.pop("t", None)
        bad = ["{line: sideways}", "{load: 500}", "{lod: 5}", "{", "}", "load 5",
               "{line: off, load: 5}", "{fault: warp_core}", "{wire: {silence: 3x}}",
               "{charge: -1}", "[1, 2]", "{}", "{end: true}", "\x01\x02", "{dip: 999}"]
        bad += ["{load: %s}" % v for v in ("abc", "1e999", "nan", "-5", "200.1")]
        while len(bad) < 100:
            bad.append("{bogus%d: %d}" % (len(bad), len(bad)))
        errors = sum(1 for b in bad if (ctl(b) or "").startswith("error: "))
        c.eq(errors, 100, "100 malformed lines each answer error: ...")
        after = ctl.status()
        after.pop("t", None)
        c.eq(after, before, "and change nothing")

        # wire faults, byte for byte
        c.eq(ctl("{wire: {corrupt: 2}}"), "ok", "corrupt")
        got = s.cmd("Q")
        c(got is not None and got[:2] != b"08", "corrupt: the reply is damaged (%r)" % got)
        s.drain(0.2)
        c.eq(s.cmd("Q"), b"08", "corrupt: then clean again")
        c.eq(ctl("{wire: {drop: 2}}"), "ok", "drop")
        s.send("Q")
        c.eq(s.read_until(b"\r\n", 1.0), b"\r\n", "drop: Q's reply loses its 2 first bytes")
        c.eq(ctl("{wire: {garbage: \"XY\\x01\"}}"), "ok", "garbage")
        c.eq(s.read_for(0.3), b"XY\x01", "garbage arrives as given")
        c.eq(ctl("{wire: {alert_inside: \"!\"}}"), "ok", "alert inside")
        s.send("V")
        v = s.read_until(b"\r\n", 1.0)
        c("!" in v.decode(errors="replace") and v.endswith(b"\r\n") and len(v) >= 4,
          "an alert inside the reply: %r" % v)
        c.eq(ctl("{wire: {split: 300ms}}"), "ok", "split")
        s.send("\x01")
        t0 = time.monotonic()
        first = s.read_for(0.15)
        rest = s.read_until(b"\r\n", 2.0)
        gap = time.monotonic() - t0
        c(first and not first.endswith(b"\r\n") and rest.endswith(b"\r\n") and gap >= 0.25,
          "split: part, 300 ms, rest (%r / %r after %.2fs)" % (first, rest, gap))
        c.eq(ctl("{wire: {delay: 400ms}}"), "ok", "delay")
        t0 = time.monotonic()
        c.eq(s.cmd("Q"), b"08", "delay: the reply still comes")
        c(time.monotonic() - t0 >= 0.35, "delay: 400 ms late")
        c.eq(ctl("{wire: {delay: 0}}"), "ok", "delay cleared")
        c.eq(ctl("{wire: {silence: 1s}}"), "ok", "silence")
        s.send("Q")
        c.eq(s.read_for(0.5), b"", "silence: no answer")
        s.drain(0.7)
        c.eq(s.cmd("Q"), b"08", "silence ends by itself")
        c.eq(ctl("{wire: {comms: lost}}"), "ok", "comms lost")
        s.send("Y")
        c.eq(s.read_for(0.5), b"", "comms lost: nothing answers")
        c.eq(ctl("{wire: {comms: back}}"), "ok", "comms back")
        c.eq(s.cmd("Y"), b"SM", "comms back: answers again")
    c(not os.path.exists(sock), "the socket is removed at exit")
c.done()
