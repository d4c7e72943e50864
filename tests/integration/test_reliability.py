"""Reliability: the reproductions of issue 5, each on the installed binary
over a real pty.  A careless or hostile host (or caller) must not hang the
simulator, grow it without bound, lose a host's first command or hand it
another host's bytes:

  1. closed stdout/stderr (the pty landing on fd 1/2, -v read back as
     commands), floods bounded in memory and CPU;
  2. a new host never receives the previous host's output;
  3. a new host's first command is read in its own session;
  4. --link only makes and removes a link that is ours;
  5. --speed does not scale the wire's own timers;
  6. bytes a host saw readable never vanish under it (socat hung);
  and: stdout on /dev/full, --mode with setuid bits, --device restores the
  port's settings, the terminal settings a host leaves do not carry over.

Memory figures come from /proc/PID/status (VmHWM, the peak RSS); under
ASan (UPSSIM_ASAN=1) the memory limits are not meaningful and are skipped.
"""
import array
import errno
import fcntl
import os
import select
import shutil
import signal
import subprocess
import tempfile
import termios
import time
import tty

from upssim_proc import (BIN, Check, Sim, cpu_s, host_open, read_until, run,
                         status_kb)

c = Check("reliability")
ASAN = os.environ.get("UPSSIM_ASAN") == "1"






def idle_cpu(pid, seconds=1.0):
    """CPU seconds the process used over `seconds` of wall time."""
    a = cpu_s(pid)
    time.sleep(seconds)  # the measurement window, not a readiness wait
    return cpu_s(pid) - a


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    c(False, "timed out waiting for " + what)
    return False






def read_for(fd, seconds):
    deadline, buf = time.monotonic() + seconds, b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return buf
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                return buf


def flood(fd, data, total):
    """Write `total` bytes of `data` repeated, never reading."""
    os.set_blocking(fd, False)
    sent, chunk = 0, data * (4096 // len(data))
    deadline = time.monotonic() + 30
    while sent < total and time.monotonic() < deadline:
        try:
            sent += os.write(fd, chunk[:total - sent])
        except BlockingIOError:
            select.select([], [fd], [], 0.05)
    os.set_blocking(fd, True)
    return sent


def start_detached(cmd, link):
    """Start upssim through sh (to close descriptors); wait for its link."""
    p = subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.DEVNULL)
    ok = wait_for(lambda: os.path.islink(link) or p.poll() is not None, 10,
                  "the link of " + cmd)
    return p if ok and p.poll() is None else p


def fcntl_inq(fd):
    """Bytes waiting to be read on a tty (FIONREAD)."""
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    return buf[0]


def stop(p, timeout=10):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            c(False, "SIGTERM did not end pid %d within %ds" % (p.pid, timeout))
            p.kill()
            p.wait()
    return p.returncode


with tempfile.TemporaryDirectory() as d:
    # ---- 1. stdout and stderr closed, -v: nothing feeds itself --------
    link = os.path.join(d, "ups1")
    p = start_detached("exec '%s' -v --link '%s' >&- 2>&-" % (BIN, link), link)
    c(p.poll() is None, "upssim -v with fds 1 and 2 closed runs")
    if p.poll() is None:
        cpu = idle_cpu(p.pid, 1.0)
        c(cpu < 0.2, "no host, -v to a closed stderr: idle CPU %.2fs per s" % cpu)
        fd = host_open(link)
        os.write(fd, b"Y")
        c.eq(read_until(fd), b"SM\r\n", "fds 1,2 closed: Y answers SM")
        c.eq(read_for(fd, 0.5), b"", "fds 1,2 closed: nothing else arrives")
        cpu = idle_cpu(p.pid, 1.0)
        c(cpu < 0.2, "with a host attached: idle CPU %.2fs per s" % cpu)
        if not ASAN:
            rss = status_kb(p.pid, "VmRSS")
            c(0 < rss < 8192, "RSS %d KiB < 8 MiB" % rss)
        os.close(fd)
        t0 = time.monotonic()
        c.eq(stop(p), 0, "SIGTERM ends it with exit 0")
        c(time.monotonic() - t0 < 5, "SIGTERM is obeyed at once")
        c(not os.path.lexists(link), "its link is removed at exit")

    # only stdout closed: the banner must not go into the pty
    link = os.path.join(d, "ups1b")
    p = start_detached("exec '%s' --link '%s' >&-" % (BIN, link), link)
    if p.poll() is None:
        fd = host_open(link, configure=False)
        got = read_for(fd, 0.5)
        c(b"upssim" not in got and b"DEVICE" not in got and len(got) <= 2,
          "stdout closed: no banner in the pty (got %r)" % got[:80])
        os.write(fd, b"Y")
        c.eq(read_until(fd), b"SM\r\n", "stdout closed: Y answers SM")
        os.close(fd)
        stop(p)

    # a flood of queries nobody reads: memory and the queue stay bounded
    with Sim("--link", os.path.join(d, "ups1c")) as s:
        fd = host_open(s.path)
        base = status_kb(s.proc.pid, "VmHWM")
        sent = flood(fd, b"\x1aQfjB", 1 << 20)
        c.eq(sent, 1 << 20, "1 MiB of queries written without reading")
        # wait until the simulator has read it all: it answers a probe
        termios.tcflush(fd, termios.TCIFLUSH)
        os.write(fd, b"Y")
        got = read_until(fd, b"SM\r\n", 30)
        c(got.endswith(b"SM\r\n"), "answers after the flood")
        peak = status_kb(s.proc.pid, "VmHWM")
        if not ASAN:
            c(peak < 8192, "peak RSS under a 1 MiB flood %d KiB (< 8 MiB; "
              "%d KiB before)" % (peak, base))
        cpu = idle_cpu(s.proc.pid, 1.0)
        c(cpu < 0.2, "idle CPU after the flood %.2fs per s" % cpu)
        os.close(fd)

    # ---- 2. a new host never receives the previous host's output ------
    for extra in ([], ["--realistic-timing"]):
        tag = " ".join(extra) or "instant"
        with Sim("--link", os.path.join(d, "ups2"), "-v", *extra,
                 stderr_path=os.path.join(d, "trace2")) as s:
            a = host_open(s.path)
            os.write(a, b"Y")
            read_until(a)
            sent = flood(a, b"QfjB", 200 * 1024)
            c(sent >= 64 * 1024, "%s: host A wrote %d bytes without reading" % (tag, sent))
            os.close(a)
            c(s.wait_stderr("host-close", 10) is not None,
              "%s: the simulator sees host A leave" % tag)
            b = host_open(s.path)
            t0 = time.monotonic()
            os.write(b, b"Y")
            got = read_until(b, b"\r\n", 10)
            took = time.monotonic() - t0
            c.eq(got, b"SM\r\n", "%s: host B's first bytes are SM" % tag)
            c(took < 1.0, "%s: B's SM within 1 s (took %.2fs)" % (tag, took))
            c.eq(read_for(b, 0.3), b"", "%s: nothing stale after it" % tag)
            os.close(b)

    # ---- 3. the first command after a reconnect is never lost ---------
    # B opens at once.  Where the kernel still held A's "@1" when the
    # simulator saw B open (the trace shows "@1" read in B's session), the
    # bytes cannot be told apart; every other trial must answer SM.
    with Sim("--link", os.path.join(d, "ups3"), "-v",
             stderr_path=os.path.join(d, "trace3")) as s:
        lost = late = 0
        trials = 40
        for i in range(trials):
            a = host_open(s.path)
            os.write(a, b"@1")
            os.close(a)
            b = host_open(s.path)
            os.write(b, b"Y")
            got = read_until(b, b"\r\n", 1.0)
            os.close(b)
            s.wait_stderr("host-close", 5)
            with open(s.stderr_path) as f:
                f.seek(0)
                text = f.read()
            s.err_pos = len(text.encode())
            chunk = text[getattr(s, "mark", 0):]
            s.mark = len(text)
            opens = [j for j, l in enumerate(chunk.splitlines()) if "host-open" in l]
            after = chunk.splitlines()[opens[-1]:] if opens else []
            if any(" rx " in l and "@1" in l for l in after):
                late += 1
                continue
            if got != b"SM\r\n":
                lost += 1
                print("trial %d: B got %r; trace:\n  %s" % (i, got, "\n  ".join(chunk.splitlines()[-12:])))
        c.eq(lost, 0, "B's Y answered SM in every trial where A's bytes were "
             "read in A's session (%d of %d; %d late)" % (trials - late, trials, late))
        print("B opened at once: %d of %d trials saw A's close and B's open "
              "together (A's bytes read in B's session)" % (late, trials))
        # B opens once the simulator has seen A leave: never lost
        lost = 0
        for i in range(trials):
            a = host_open(s.path)
            os.write(a, b"@1")
            os.close(a)
            s.wait_stderr("host-close", 5)
            b = host_open(s.path)
            os.write(b, b"Y")
            if read_until(b, b"\r\n", 1.0) != b"SM\r\n":
                lost += 1
            os.close(b)
            s.wait_stderr("host-close", 5)
        c.eq(lost, 0, "after A has gone, B's first command is answered (%d trials)" % trials)

    # ---- 4. --link is only ever ours ----------------------------------
    other = os.path.join(d, "precious")
    with open(other, "w") as f:
        f.write("keep me")
    link = os.path.join(d, "ups4")
    os.symlink(other, link)
    rc, out, err = run("--link", link, timeout=10)
    c.eq(rc, 4, "--link onto a symlink to a non-pty file exits 4")
    c("not to a pty" in err, "and says why: %r" % err)
    c(os.path.islink(link) and os.readlink(link) == other,
      "the other symlink is left as it was")
    os.unlink(link)
    # a control byte in the path reaches the message escaped
    odd = os.path.join(d, "u\x1bps")
    with open(odd, "w") as f:
        f.write("keep me")
    rc, out, err = run("--link", odd, timeout=10)
    c.eq(rc, 4, "--link onto a regular file exits 4")
    c("u\\x1Bps exists and is not a symlink" in err and "\x1b" not in err,
      "the path's control byte is shown as \\x1B: %r" % err)
    os.unlink(odd)

    # a stale link to a pty (a killed run) is replaced
    os.symlink("/dev/pts/999999", link)
    with Sim("--link", link) as s:
        c(os.readlink(link).startswith("/dev/pts/") and
          os.readlink(link) != "/dev/pts/999999", "a stale pty link is replaced")
    c(not os.path.lexists(link), "and removed at exit")

    # a regular file put at the path during the run stays
    s = Sim("--link", link)
    os.unlink(link)
    with open(link, "w") as f:
        f.write("mine")
    s.stop()
    c(os.path.isfile(link) and open(link).read() == "mine",
      "a file put at the link path during the run is not deleted")
    os.unlink(link)

    # a second instance takes the link; the first one's exit leaves it
    s1 = Sim("--link", link)
    s2 = Sim("--link", link)
    t2 = os.readlink(link)
    s1.stop()
    c(os.path.islink(link) and os.readlink(link) == t2,
      "the first instance's exit leaves the second one's link")
    fd = host_open(link)
    os.write(fd, b"Y")
    c.eq(read_until(fd), b"SM\r\n", "the second instance answers on it")
    os.close(fd)
    s2.stop()
    c(not os.path.lexists(link), "the second instance removes its own link")

    # SIGTERM in the first milliseconds never leaves a link behind
    stale = 0
    for i in range(30):
        p = subprocess.Popen([BIN, "--link", link], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.0005 * i)  # the moment of the signal, swept
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            c(False, "SIGTERM at %.1f ms did not end the run" % (0.5 * i))
        if os.path.lexists(link):
            stale += 1
            os.unlink(link)
    c.eq(stale, 0, "no stale link after 30 early SIGTERMs")

    # ---- 5. --speed does not scale the wire's timers ------------------
    with Sim("--speed", "100") as s:
        s.open()
        s.smart()
        s.send("K")
        time.sleep(0.02)  # the gap under test: 20 ms of wall time
        s.send("K")
        c.eq(s.read_for(0.3), b"", "--speed 100: K, 20 ms, K is ignored")
        time.sleep(0.5)  # 50 s of model time: longer than any K delay
        c.eq(s.cmd("Q"), b"08", "--speed 100: the output stays on")
    with Sim("--speed", "10000") as s:
        s.open()
        s.smart()
        c.eq(s.cmd("c"), b"UPS_IDEN", "--speed 10^4: c")
        s.send("-")
        c.eq(s.read_until(b"\r\n", 1.0), b"", "- opens the entry")
        for ch in "NAMED123":
            s.send(ch)
            time.sleep(0.03)  # typing pace under test: 300 s of model time
        got = s.read_until(b"\r\n", 2.0)
        c(got in (b"OK\r\n", b"OK\r\n|"),
          "--speed 10^4: a slowly typed name is taken (%r)" % got)
        s.drain(0.3)  # the EEPROM-changed alert `|` follows
        c.eq(s.cmd("c"), b"NAMED123", "--speed 10^4: and reads back")
        q = int(s.cmd("Q"), 16)
        c.eq(q & 0x01, 0, "no calibration started by a typed D")

    # ---- 6. bytes a host saw readable never vanish under it -----------
    # socat hung for ever in a blocking read(2): the unit's power-on `?`,
    # written while nobody had the pty open, waited in the slave's queue;
    # socat polled it readable, then the simulator saw the open and flushed
    # it.  Now what the unit sends with no host attached is dropped, and an
    # open flushes only bytes an earlier host may have left.
    with Sim("--profile", "smart-ups-420-230", "-v",
             stderr_path=os.path.join(d, "trace6")) as s:
        c(s.wait_stderr("dropped 1") is not None,
          "the power-on alert, with no host attached, is dropped (trace)")
        for i in range(5):
            fd = os.open(s.path, os.O_RDWR | os.O_NOCTTY)  # as socat: no flush
            seen = bool(select.select([fd], [], [], 0.2)[0])
            c(s.wait_stderr("host-open") is not None,
              "open %d: the simulator sees the host" % i)
            n = fcntl_inq(fd)
            c(not seen and n == 0,
              "open %d: nothing waits for a new host (readable at once: %s, "
              "queued after the open was seen: %d)" % (i, seen, n))
            tty.setraw(fd)
            os.write(fd, b"Y")
            c.eq(read_until(fd), b"SM\r\n", "open %d: Y answers SM" % i)
            os.close(fd)
            c(s.wait_stderr("host-close") is not None,
              "open %d: the simulator sees the host leave" % i)

    # and a host that has the pty open when the unit speaks does get it:
    # the power-on `?` 1.5 s after start, with the host there since 0
    prof = os.path.join(d, "late-power-on.yaml")
    with open(prof, "w") as f:
        f.write("inherit: smart-ups-420-230\ntiming: { power_on_alert: 1500 }\n")
    with Sim("--profile", prof, "-v", stderr_path=os.path.join(d, "trace6b")) as s:
        fd = host_open(s.path)
        c(s.wait_stderr("host-open") is not None, "late ?: the simulator sees the host")
        c.eq(read_until(fd, b"?", 5), b"?",
             "late ?: a host attached when the unit sends the power-on ? gets it")
        os.close(fd)

    # ---- also: stdout that cannot be written ---------------------------
    with open("/dev/full", "w") as full:
        p = subprocess.Popen([BIN], stdout=full, stderr=subprocess.PIPE)
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        err = p.stderr.read().decode()
        p.stderr.close()
    c.eq(rc, 5, "stdout on /dev/full exits 5")
    c("standard output" in err, "and says so: %r" % err)

    for bad in ("4777", "07777", "2660", "1777"):
        rc, _, err = run("--mode", bad)
        c.eq(rc, 2, "--mode %s (setuid/setgid/sticky) is refused" % bad)
    rc, _, _ = run("--mode", "0777", "--list-profiles")
    c.eq(rc, 0, "--mode 0777 is fine")

    # --device leaves the port's settings as it found them
    if shutil.which("socat"):
        ups_end, host_end = os.path.join(d, "ue"), os.path.join(d, "he")
        socat = subprocess.Popen(["socat", "-d", "-d", "pty,link=" + ups_end,
                                  "pty,raw,echo=0,link=" + host_end],
                                 stderr=subprocess.PIPE)
        log, deadline = b"", time.monotonic() + 10
        while b"starting data transfer loop" not in log and time.monotonic() < deadline:
            r, _, _ = select.select([socat.stderr], [], [], 0.5)
            if r:
                log += os.read(socat.stderr.fileno(), 4096)
        fd = os.open(ups_end, os.O_RDWR | os.O_NOCTTY)
        attrs = termios.tcgetattr(fd)
        attrs[3] |= termios.ICANON | termios.ECHO
        attrs[4] = attrs[5] = termios.B9600
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        before = termios.tcgetattr(fd)
        s = Sim("--device", ups_end)
        during = termios.tcgetattr(fd)
        c(during != before, "--device sets the port raw while serving")
        s.stop()
        after = termios.tcgetattr(fd)
        c.eq(after, before, "--device restores the port's settings at exit")
        os.close(fd)
        socat.terminate()
        socat.wait()
        socat.stderr.close()

    # the terminal settings one host leaves do not carry over
    with Sim("--link", os.path.join(d, "ups6"), "-v") as s:
        a = host_open(s.path)
        attrs = termios.tcgetattr(a)
        attrs[3] |= termios.ECHO | termios.ICANON
        termios.tcsetattr(a, termios.TCSANOW, attrs)
        os.close(a)
        c(s.wait_stderr("host-close") is not None,
          "the trace notes that the last host closed")
        # the next host does not configure the port at all
        b = host_open(s.path, configure=False)
        lflag = termios.tcgetattr(b)[3]
        c.eq(lflag & (termios.ECHO | termios.ICANON), 0,
             "the next host finds the port raw again")
        os.write(b, b"Y")
        c.eq(read_until(b), b"SM\r\n", "Y answers SM")
        c.eq(read_for(b, 0.5), b"", "and the unit does not talk to itself")
        os.write(b, b"Q")
        c.eq(read_until(b), b"08\r\n", "the output is still on")
        os.close(b)

c.done()
