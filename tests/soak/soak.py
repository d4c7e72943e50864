#!/usr/bin/env python3
"""Soak test: flood, reconnect and signal upssim at random for N minutes.

Not part of the default suite (it runs for minutes): `cmake --build build
--target soak` (UPSSIM_SOAK_MINUTES, default 10) or

    python3 tests/soak/soak.py --minutes 10 --bin build/upssim

Each round runs one random phase against one upssim process, then checks:
  - a new host session starts clean: its first reply is the reply to its
    own first command (Y -> SM, then Q answers a status byte),
  - the process stays under 8 MiB resident (VmRSS and the peak VmHWM),
  - idle CPU after the phase is ~0 (< 5 % over one second).
Phases: floods of queries and garbage nobody reads, bursts of reconnects,
hosts that die mid-command (@1, c-AB, K), a host that leaves ECHO on,
SIGSTOP/SIGCONT and ignored signals, and a restart by SIGTERM (which must
exit 0 at once and remove the link).  A fixed --seed replays a run.
Prints the figures at the end; exits 1 on any failed check.
"""
import argparse
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import termios
import time
import tty

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "integration"))
from upssim_proc import cpu_s, host_open, read_until, status_kb  # noqa: E402

RSS_LIMIT_KB = 8 * 1024










def write_all(fd, data, limit_s=10.0):
    os.set_blocking(fd, False)
    deadline, sent = time.monotonic() + limit_s, 0
    while sent < len(data) and time.monotonic() < deadline:
        try:
            sent += os.write(fd, data[sent:sent + 4096])
        except BlockingIOError:
            select.select([], [fd], [], 0.05)
    os.set_blocking(fd, True)
    return sent


class Soak:
    def __init__(self, binary, seed, workdir):
        self.bin, self.rng, self.dir = binary, random.Random(seed), workdir
        self.link = os.path.join(workdir, "ups")
        self.proc = None
        self.fail = 0
        self.stats = dict(rounds=0, sessions=0, bytes_flooded=0, restarts=0,
                          max_rss=0, max_hwm=0, max_idle_cpu=0.0)
        self.phases = {}

    def check(self, ok, what):
        if not ok:
            self.fail += 1
            print("FAIL: %s" % what, flush=True)

    def start(self):
        self.proc = subprocess.Popen([self.bin, "--link", self.link],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if r else b""
        self.check(line.strip() == self.link.encode(), "upssim printed its link (%r)" % line)
        # the banner is read; stdout stays open and unread (a few lines)

    def stop(self):
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc.stdout.close()
        self.check(rc == 0, "SIGTERM exit code %r" % rc)
        self.check(time.monotonic() - t0 < 2, "SIGTERM obeyed in %.2fs" % (time.monotonic() - t0))
        self.check(not os.path.lexists(self.link), "link removed at exit")

    # ---- phases ------------------------------------------------------
    def flood(self):
        fd = host_open(self.link)
        n = self.rng.randrange(64 << 10, 1 << 20)
        alphabet = b"QfjBLOFMNPCYa\x01\x1a" if self.rng.random() < 0.7 else bytes(range(256))
        # no destructive bytes in the query flood; garbage may hold any byte
        data = bytes(self.rng.choice(alphabet) for _ in range(4096)) * (n // 4096)
        self.stats["bytes_flooded"] += write_all(fd, data)
        os.close(fd)

    def reconnects(self):
        for _ in range(self.rng.randrange(20, 80)):
            fd = host_open(self.link)
            os.write(fd, b"Y")
            got = read_until(fd, b"\r\n", 2)
            self.check(got == b"SM\r\n", "burst session: first reply %r" % got[:40])
            os.close(fd)
            self.stats["sessions"] += 1

    def half_commands(self):
        for cmd in (b"@1", b"c-AB", b"K", b"\x0e", b"x-1", b"I-"):
            fd = host_open(self.link)
            os.write(fd, b"Y")
            read_until(fd)
            os.write(fd, cmd)
            os.close(fd)

    def echo_host(self):
        fd = host_open(self.link)
        attrs = termios.tcgetattr(fd)
        attrs[3] |= termios.ECHO | termios.ICANON
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        os.write(fd, b"Y")
        time.sleep(0.05)  # the host's own pace: it leaves soon after
        os.close(fd)

    def signals(self):
        pid = self.proc.pid
        for _ in range(self.rng.randrange(5, 30)):
            sig = self.rng.choice([signal.SIGWINCH, signal.SIGCHLD, signal.SIGURG,
                                   signal.SIGPIPE, signal.SIGSTOP])
            os.kill(pid, sig)
            if sig == signal.SIGSTOP:
                time.sleep(self.rng.random() * 0.05)  # stopped for a while
                os.kill(pid, signal.SIGCONT)

    def restart(self):
        self.stop()
        self.start()
        self.stats["restarts"] += 1

    # ---- checks after every phase ------------------------------------
    def measure(self):
        pid = self.proc.pid
        a = cpu_s(pid)
        time.sleep(1.0)  # the idle window being measured
        idle = cpu_s(pid) - a
        self.stats["max_idle_cpu"] = max(self.stats["max_idle_cpu"], idle)
        self.check(idle < 0.05, "idle CPU after the phase: %.3fs in 1s" % idle)
        rss, hwm = status_kb(pid, "VmRSS"), status_kb(pid, "VmHWM")
        self.stats["max_rss"] = max(self.stats["max_rss"], rss)
        self.stats["max_hwm"] = max(self.stats["max_hwm"], hwm)
        self.check(0 < rss < RSS_LIMIT_KB, "RSS %d KiB" % rss)
        self.check(0 < hwm < RSS_LIMIT_KB, "peak RSS %d KiB" % hwm)
        fd = host_open(self.link)
        os.write(fd, b"Y")
        got = read_until(fd, b"\r\n", 3)
        self.check(got == b"SM\r\n", "new session: first reply %r" % got[:60])
        os.write(fd, b"Q")
        q = read_until(fd, b"\r\n", 3)
        self.check(len(q) == 4 and q.endswith(b"\r\n"), "new session: Q answers %r" % q[:60])
        os.close(fd)
        self.stats["sessions"] += 1

    def run(self, minutes):
        phases = [self.flood, self.reconnects, self.half_commands, self.echo_host,
                  self.signals, self.restart]
        weights = [4, 3, 2, 1, 2, 1]
        self.start()
        end = time.monotonic() + minutes * 60
        while time.monotonic() < end and self.fail < 20:
            ph = self.rng.choices(phases, weights)[0]
            ph()
            self.phases[ph.__name__] = self.phases.get(ph.__name__, 0) + 1
            self.measure()
            self.stats["rounds"] += 1
        self.stop()
        print("soak: %s" % " ".join("%s=%s" % kv for kv in self.stats.items()))
        print("soak: phases %s" % " ".join("%s=%d" % kv for kv in sorted(self.phases.items())))
        checks = self.stats["rounds"] * 6
        print("soak: %d passed, %d failed" % (max(checks - self.fail, 0), self.fail))
        return 1 if self.fail else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--bin", default=os.environ.get("UPSSIM_BIN", "upssim"))
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    print("soak: %.1f min, seed %d, %s" % (a.minutes, seed, a.bin), flush=True)
    with tempfile.TemporaryDirectory() as d:
        return Soak(a.bin, seed, d).run(a.minutes)


if __name__ == "__main__":
    sys.exit(main())
