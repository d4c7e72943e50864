"""Start the installed upssim, talk bytes to its pty, end it by pid.

Used by the integration tests and the real-client runners' helpers.  Every
wait has a deadline and waits on an event (a line on stdout, bytes on the
pty); nothing sleeps for readiness.
"""
import os
import select
import signal
import subprocess
import termios
import time
import tty

BIN = os.environ.get("UPSSIM_BIN", "upssim")
SRC = os.environ.get("UPSSIM_SOURCE_DIR",
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))


class Sim:
    """A running upssim process and a host-side handle on its pty."""

    def __init__(self, *args, ready_timeout=10.0, stderr_path=None):
        """stderr_path: send stderr (the -v trace) to this file instead of
        a pipe, for traces too long to sit unread in a pipe."""
        self.stderr_path = stderr_path
        err = open(stderr_path, "wb") if stderr_path else subprocess.PIPE
        self.proc = subprocess.Popen([BIN, *args], stdout=subprocess.PIPE,
                                     stderr=err)
        if stderr_path:
            err.close()
        self.err_pos = 0
        self.fd = None
        self.banner = []
        self.path = self._read_line(ready_timeout)
        if not self.path:
            err = self.stop()
            raise RuntimeError("upssim did not print a device path: %r" % err)

    def _read_line(self, timeout):
        out = self.proc.stdout
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([out], [], [], deadline - time.monotonic())
            if not r:
                break
            c = os.read(out.fileno(), 1)
            if not c:
                break
            if c == b"\n":
                return buf.decode()
            buf += c
        return None

    def new_stderr(self):
        """Lines written to stderr_path since the last call."""
        with open(self.stderr_path, "rb") as f:
            f.seek(self.err_pos)
            data = f.read()
        cut = data.rfind(b"\n") + 1
        self.err_pos += cut
        return data[:cut].decode(errors="replace").splitlines()

    def wait_stderr(self, needle, timeout=5.0):
        """Read stderr (the -v trace) until a line containing `needle`."""
        if self.stderr_path:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for line in self.new_stderr():
                    if needle in line:
                        return line
                time.sleep(0.005)
            return None
        err = self.proc.stderr
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([err], [], [], deadline - time.monotonic())
            if not r:
                break
            ch = os.read(err.fileno(), 1)
            if not ch:
                break
            if ch == b"\n":
                if needle.encode() in line:
                    return line.decode(errors="replace")
                line = b""
            else:
                line += ch
        return None

    def read_banner(self, lines, timeout=5.0):
        for _ in range(lines):
            line = self._read_line(timeout)
            if line is None:
                break
            self.banner.append(line)
        return self.banner

    def open(self):
        """Open the pty like a host: raw 2400 8N1."""
        self.fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = termios.B2400
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        return self

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        os.write(self.fd, data)

    def read_until(self, end=b"\r\n", timeout=3.0):
        """Bytes up to and including `end`, or what came before the deadline."""
        deadline = time.monotonic() + timeout
        buf = b""
        while not buf.endswith(end):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                break
            buf += os.read(self.fd, 4096)
        return buf

    def read_for(self, seconds):
        """Everything that arrives within `seconds` (for 'expect silence')."""
        deadline = time.monotonic() + seconds
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return buf
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                buf += os.read(self.fd, 4096)

    def drain(self, quiet=0.2):
        """Discard input until the line has been quiet for `quiet` s."""
        while self.read_for(quiet):
            pass

    def cmd(self, data, timeout=3.0):
        """Send a command, return its reply line without CR LF (or None)."""
        self.send(data)
        buf = self.read_until(b"\r\n", timeout)
        if not buf.endswith(b"\r\n"):
            return None
        return buf[:-2]

    def smart(self):
        self.drain()
        reply = self.cmd("Y")
        assert reply is not None and reply.endswith(b"SM"), reply
        return reply

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        self.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.stderr_path:
            with open(self.stderr_path, "rb") as f:
                err = f.read().decode(errors="replace")
        else:
            err = self.proc.stderr.read().decode(errors="replace")
            self.proc.stderr.close()
        self.proc.stdout.close()
        return err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run(*args, timeout=20):
    """Run upssim to completion: (exit code, stdout, stderr)."""
    p = subprocess.run([BIN, *args], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class Check:
    """Tiny assertion collector that prints 'N passed, N failed'."""

    def __init__(self, name):
        self.name, self.ok, self.bad = name, 0, 0

    def __call__(self, cond, what):
        if cond:
            self.ok += 1
        else:
            self.bad += 1
            print("FAIL: %s" % what, flush=True)

    def eq(self, got, want, what):
        def short(v):
            r = repr(v)
            return r if len(r) <= 200 else r[:120] + "...(%d chars)..." % len(r) + r[-60:]
        self(got == want, "%s: got %s, want %s" % (what, short(got), short(want)))

    def done(self):
        print("%s: %d passed, %d failed" % (self.name, self.ok, self.bad))
        raise SystemExit(1 if self.bad or not self.ok else 0)


# ---- raw host descriptors and process figures (reliability, soak) ----

def status_kb(pid, key):
    """A /proc/PID/status figure in KiB (VmRSS, VmHWM ...), -1 if absent."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def cpu_s(pid):
    """CPU seconds (user + system) the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_open(path, configure=True):
    """Open a device like a host: raw, flushed (unless configure=False)."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    if configure:
        tty.setraw(fd)
        termios.tcflush(fd, termios.TCIOFLUSH)
    return fd


def read_until(fd, end=b"\r\n", timeout=3.0):
    """Bytes from fd up to and including `end`, or what came by the deadline."""
    deadline, buf = time.monotonic() + timeout, b""
    while not buf.endswith(end):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            break
        buf += os.read(fd, 65536)
    return buf
