"""--state under kill -9: at least 200 times, a host changes the EEPROM of
the unit over the pty as fast as it can (`-` on the setting lists, c and
x direct entry) while upssim is killed with SIGKILL at a random moment.
After each kill a new upssim starts on the same state file, which must
load (exit 3 would mean a damaged file), and the unit must answer every
change it had acknowledged (`OK` after `-` or after the 8th entry byte);
a change still in flight when the kill came may show its old or its new
value.  The file is also checked on its own (format line, CRC-32).
Takes about 20-40 s."""
import os
import random
import select
import signal
import subprocess
import tempfile
import threading
import time
import zlib

from upssim_proc import BIN, Check, Sim

KILLS = 300
BUDGET_S = 55.0
c = Check("state_kill")
rng = random.Random(int(os.environ.get("UPSSIM_SEED", "20240901")))


class Host:
    """The pty side, with short deadlines: a killed upssim shows as EIO
    or silence."""

    def __init__(self, sim):
        self.s = sim
        sim.open()

    def read_until(self, end, timeout=0.5):
        """Bytes up to `end`; stops at once when the unit is gone (EOF or
        EIO on the pty), which Sim.read_until would wait out."""
        deadline = time.monotonic() + timeout
        buf = b""
        while not buf.endswith(end):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.s.fd], [], [], left)
            if not r:
                break
            try:
                got = os.read(self.s.fd, 4096)
            except OSError:
                break
            if not got:
                break
            buf += got
        return buf

    def cmd(self, data, timeout=0.5):
        try:
            self.s.send(data)
        except OSError:
            return None
        buf = self.read_until(b"\r\n", timeout)
        return buf[:-2] if buf.endswith(b"\r\n") else None


def parse_dump(reply):
    """^Z reply -> {cmd: [values]} for the unit's own items (its locale
    and 4); the first item per command is the unit's own (ULS p.15)."""
    out = {}
    body = reply[1:]
    i = 0
    while i + 4 <= len(body):
        cmd, loc, n, w = chr(body[i]), chr(body[i + 1]), body[i + 2] - 48, body[i + 3] - 48
        vals = [body[i + 4 + k * w:i + 4 + (k + 1) * w].decode() for k in range(n)]
        if cmd not in out:
            out[cmd] = vals
        i += 4 + n * w
    return out


def start(state):
    try:
        return Sim("--state", state, ready_timeout=5.0)
    except RuntimeError as e:
        return e


def smart(h):
    h.s.send("Y")
    return h.read_until(b"SM\r\n", 2.0).endswith(b"SM\r\n")


with tempfile.TemporaryDirectory(prefix="upssim-state-kill.") as tmp:
    state = os.path.join(tmp, "unit.state")
    s = start(state)
    c(isinstance(s, Sim), "upssim starts with a new --state file")
    h = Host(s)
    c(smart(h), "smart mode")
    lists = parse_dump(h.cmd(b"\x1a") or b"#")
    # the default profile's settings (ULS p.15-22)
    lists = {k: v for k, v in lists.items() if k in "ulepsqkrEo" and len(v) > 1}
    c(len(lists) >= 8, "the unit lists its settings in ^Z: %s" % sorted(lists))
    # `-` steps through a list by position: a value listed twice (s: H M
    # L L) does not tell the position, so those are only read back
    cycled = sorted(k for k, v in lists.items() if len(set(v)) == len(v))
    expected = {k: h.cmd(k).decode() for k in lists}
    expected["c"] = h.cmd("c").decode()
    expected["x"] = h.cmd("x").decode()
    s.stop(signal.SIGKILL)
    c(os.path.exists(state), "the state file exists as soon as upssim is up")

    t0 = time.monotonic()
    kills = inflight_kills = new_kept = 0
    acked_total = 0
    bad = []
    pending = {}
    while kills < KILLS and time.monotonic() - t0 < BUDGET_S:
        s = start(state)
        if not isinstance(s, Sim):
            bad.append("kill %d: upssim did not start on the state file: %s"
                       % (kills, s))
            break
        h = Host(s)
        if not smart(h):
            bad.append("kill %d: no SM" % kills)
            s.stop(signal.SIGKILL)
            continue
        # every acknowledged change is there; an in-flight one may be
        for k in list(expected):
            got = h.cmd(k)
            got = got.decode("latin-1") if got is not None else None
            ok = got == expected[k] or (k in pending and got == pending[k])
            if not ok:
                bad.append("kill %d: %s answers %r, acknowledged %r%s" % (
                    kills, k, got, expected[k],
                    " (in flight: %r)" % pending[k] if k in pending else ""))
            elif k in pending and got == pending[k] and got != expected[k]:
                new_kept += 1
            if got is not None:
                expected[k] = got
        pending = {}
        # change things until the kill comes at a random moment
        delay = rng.choice([rng.uniform(0, 0.004), rng.uniform(0, 0.03)])
        pid = s.proc.pid
        killer = threading.Timer(delay, os.kill, (pid, signal.SIGKILL))
        killer.start()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            op = rng.random()
            if op < 0.7:
                k = rng.choice(cycled)
                v0 = h.cmd(k)
                if v0 is None:
                    break
                vals = lists[k]
                v0 = v0.decode()
                if v0 not in vals:
                    bad.append("kill %d: %s answers %r, not in %s" % (kills, k, v0, vals))
                    break
                pending[k] = vals[(vals.index(v0) + 1) % len(vals)]
                r = h.cmd("-")
                if r is None:
                    break
                if r == b"OK":
                    expected[k] = pending.pop(k)
                    acked_total += 1
                else:
                    bad.append("kill %d: %s - answers %r" % (kills, k, r))
                    break
            else:
                k = "c" if op < 0.85 else "x"
                if k == "c":
                    text = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789_")
                                   for _ in range(rng.randint(1, 8)))
                else:
                    text = "%02d/%02d/%02d" % (rng.randint(1, 12), rng.randint(1, 28),
                                               rng.randint(0, 99))
                if h.cmd(k) is None:
                    break
                try:
                    h.s.send("-")
                    pending[k] = text
                    h.s.send(text + "\r" * (8 - len(text)))
                except OSError:
                    break
                r = h.read_until(b"\r\n", 0.5)
                if r.endswith(b"OK\r\n"):
                    expected[k] = pending.pop(k)
                    acked_total += 1
                else:
                    break
        killer.join()
        s.proc.wait()
        if s.proc.returncode != -signal.SIGKILL:
            bad.append("kill %d: upssim ended with %r before the kill"
                       % (kills, s.proc.returncode))
        s.stop()
        kills += 1
        if pending:
            inflight_kills += 1
        if bad:
            break
    for b in bad[:10]:
        c(False, b)
    c(kills >= 200, "at least 200 kills (%d in %.1f s)" % (kills, time.monotonic() - t0))
    c(acked_total >= kills, "changes acknowledged before the kills: %d" % acked_total)
    print("# %d kills, %d with a change in flight (its new value kept %d times), "
          "%d acknowledged changes" % (kills, inflight_kills, new_kept, acked_total))

    # a last start: everything acknowledged is there
    s = start(state)
    c(isinstance(s, Sim), "upssim starts on the state file after the last kill")
    if isinstance(s, Sim):
        h = Host(s)
        smart(h)
        for k in sorted(expected):
            got = h.cmd(k)
            got = got.decode("latin-1") if got is not None else None
            ok = got == expected[k] or (k in pending and got == pending[k])
            c(ok, "after the last kill %s answers %r (acknowledged %r)" % (k, got, expected[k]))
        s.stop()
    # the file itself: the format line first, the CRC-32 of all before
    # its checksum line right
    with open(state, "rb") as f:
        data = f.read()
    c(data.startswith(b"upssim-state 1\n"), "the file starts with its format line")
    at = data.rfind(b"\nchecksum 0x")
    c(at > 0 and int(data[at + 12:at + 20], 16) == zlib.crc32(data[:at + 1]),
      "the checksum line holds the CRC-32 of the text before it")
    # no other upssim may write the same file
    with Sim("--state", state) as first:
        p = subprocess.run([BIN, "--state", state], capture_output=True, timeout=10)
        c.eq(p.returncode, 3, "a second upssim on the same state file exits 3")
        c(b"in use by another upssim" in p.stderr, "and says why: %r" % p.stderr)

c.done()
